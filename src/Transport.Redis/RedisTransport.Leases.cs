using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Broker.Transport.Redis;

// Leases: renewed every third of a lease while this process lives.
internal sealed partial class RedisTransport
{
    /// <summary>Renews, every third of a lease, the leases of the items this process took and the locks it holds.
    /// A lease found already ended is logged; a lost lock cancels its <see cref="LockLease.Lost"/> token.</summary>
    private async Task RenewLoopAsync()
    {
        using var timer = new PeriodicTimer(_options.Lease / 3, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    await RenewAsync().ConfigureAwait(false);
                }
                catch (BrokerUnavailableException e)
                {
                    _logger.LogWarning("Could not renew leases on Redis at {Url}: {Reason}", _url.Display, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RenewAsync()
    {
        var leaseMs = (long)_options.Lease.TotalMilliseconds;
        foreach (var queue in _taken.Keys.GroupBy(d => d.Queue))
        {
            var ids = queue.ToDictionary(d => d.Id);
            var lost = (RedisResult[])(await EvaluateAsync(RedisScripts.Renew, [_keys.Queue(queue.Key).Leases],
                [leaseMs, .. ids.Keys.Select(id => (RedisValue)id)], _stopping.Token).ConfigureAwait(false))!;
            foreach (var id in lost.Select(r => (long)r))
            {
                _logger.LogWarning("The lease of an item of queue {Queue} ended before it was done; it went back to the queue.", queue.Key);
                _taken.TryRemove(ids[id], out _);
            }
        }
        foreach (var ((name, owner), lost) in _held)
        {
            if ((int)await EvaluateAsync(RedisScripts.RenewLock, [_keys.Lock(name).Lock], [owner.ToString(), leaseMs], _stopping.Token).ConfigureAwait(false) == 0
                && _held.TryRemove((name, owner), out _))
            {
                _logger.LogWarning("Lock {Lock} was lost: its lease ended before it could be renewed.", name);
                lost.Cancel();
            }
        }
    }
}
