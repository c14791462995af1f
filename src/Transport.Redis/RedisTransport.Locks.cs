using StackExchange.Redis;

namespace Broker.Transport.Redis;

// Locks: a key with its holder and fencing token, under a lease this process renews.
internal sealed partial class RedisTransport
{
    public async ValueTask<LockLease?> AcquireAsync(string name, LockOwner owner, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var keys = _keys.Lock(name);
        long fencingToken = 0;
        var acquired = await WaitAsync(keys.Channel, timeout, async ct =>
        {
            var result = await EvaluateAsync(RedisScripts.Acquire, [keys.Lock, keys.Fence], [owner.ToString(), (long)_options.Lease.TotalMilliseconds], ct).ConfigureAwait(false);
            fencingToken = result.IsNull ? 0 : (long)result;
            return !result.IsNull;
        }, cancellationToken).ConfigureAwait(false);
        if (!acquired)
        {
            return null;
        }
        var lost = new CancellationTokenSource();
        _held[(name, owner)] = lost;
        return new LockLease(fencingToken, lost.Token);
    }

    public async ValueTask ReleaseAsync(string name, LockOwner owner, CancellationToken cancellationToken)
    {
        var keys = _keys.Lock(name);
        if (_held.TryRemove((name, owner), out var lost))
        {
            lost.Dispose();
        }
        if ((int)await EvaluateAsync(RedisScripts.Release, [keys.Lock], [owner.ToString(), keys.Channel], cancellationToken).ConfigureAwait(false) == 0)
        {
            throw new LockNotOwnedException($"Lock '{name}' is not held by this owner (or its lease of {_options.Lease} ended).");
        }
    }

    public async ValueTask<bool> IsHeldAsync(string name, CancellationToken cancellationToken) =>
        await RunAsync(static (db, key) => db.KeyExistsAsync(key), (RedisKey)_keys.Lock(name).Lock, cancellationToken).ConfigureAwait(false);
}
