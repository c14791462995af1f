using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Broker.Transport.Redis;

// Queues: puts grouped into one script, gets that prefetch under lease, acknowledgements grouped, counts and Join.
internal sealed partial class RedisTransport
{
    /// <summary>Well under Redis's own limit of 512 MB a string, and small enough that a script moving a few such items
    /// does not stall the server for others.</summary>
    public const int MaxItem = 64 * 1024 * 1024;

    public int MaxItemSize => MaxItem;

    public async ValueTask DeclareAsync(string queue, int maxSize, CancellationToken cancellationToken)
    {
        var keys = _keys.Queue(queue);
        var declared = (int)await EvaluateAsync(RedisScripts.Declare, [keys.Meta], [maxSize], cancellationToken).ConfigureAwait(false);
        if (declared != maxSize)
        {
            throw new QueueMaxSizeConflictException(queue, maxSize, $"Queue '{queue}' exists with maxsize {declared}, not {maxSize}.");
        }
    }

    public IJoinableQueueBackend Joinable => this;

    /// <summary>Puts made at once by this process go to the queue together, in one script. Every item counts for Join
    /// (the script adds it to the count), so one put serves plain and joinable queues alike.</summary>
    public async ValueTask<bool> PutAsync(string queue, ReadOnlyMemory<byte> body, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var puts = Puts(queue);
        RedisValue item = body.ToArray();
        return await WaitAsync(_keys.Queue(queue).Channel, timeout, ct => puts.CommitAsync(item, ct), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Puts the items in one script, as far as the queue has room; each item that did not fit then waits for
    /// room on its own, in their order.</summary>
    public async ValueTask PutAllAsync(string queue, IReadOnlyList<ReadOnlyMemory<byte>> bodies, CancellationToken cancellationToken)
    {
        var put = await Puts(queue).CommitAllAsync([.. bodies.Select(body => (RedisValue)body.ToArray())], cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < bodies.Count; i++)
        {
            if (!put[i])
            {
                await PutAsync(queue, bodies[i], Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private GroupCommit<RedisValue, bool> Puts(string queue) =>
        _puts.GetOrAdd(queue, q => new(bodies => PutManyAsync(q, bodies), MostAtOnce));

    /// <summary>Puts what the queue has room for; each item that did not fit waits for room on its own.</summary>
    private async Task<IReadOnlyList<bool>> PutManyAsync(string queue, IReadOnlyList<RedisValue> bodies)
    {
        var keys = _keys.Queue(queue);
        var put = (int)await EvaluateAsync(RedisScripts.Put, [keys.Items, keys.Meta, keys.Unfinished], [keys.Channel, .. bodies], CancellationToken.None).ConfigureAwait(false);
        return [.. bodies.Select((_, i) => i < put)];
    }

    public async ValueTask<Delivery?> GetAsync(string queue, TimeSpan timeout, CancellationToken cancellationToken) =>
        (await TakeItemsAsync(queue, acknowledge: false, 1, timeout, cancellationToken).ConfigureAwait(false)).FirstOrDefault();

    /// <summary>Takes an item under a lease this process renews. Only such items are prefetched: they come back if this
    /// process dies, where an item taken without one would be lost with it.</summary>
    public async ValueTask<UnfinishedDelivery?> TakeAsync(string queue, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_options.Prefetch > 1 && TakePrefetched(queue) is { } prefetched)
        {
            return prefetched;
        }
        var taken = await TakeItemsAsync(queue, acknowledge: true, _options.Prefetch, timeout, cancellationToken).ConfigureAwait(false);
        foreach (var item in taken.Skip(1))
        {
            _prefetched.GetOrAdd(queue, _ => new()).Enqueue(item);
        }
        return taken.FirstOrDefault();
    }

    /// <summary>Takes up to <paramref name="most"/> items in one script.</summary>
    public async ValueTask<IReadOnlyList<Delivery>> GetManyAsync(string queue, int most, TimeSpan timeout, CancellationToken cancellationToken) =>
        await TakeItemsAsync(queue, acknowledge: false, most, timeout, cancellationToken).ConfigureAwait(false);

    private async Task<List<RedisDelivery>> TakeItemsAsync(string queue, bool acknowledge, int most, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var keys = _keys.Queue(queue);
        var delivered = new List<RedisDelivery>();
        await WaitAsync(keys.Channel, timeout, async ct =>
        {
            var result = await EvaluateAsync(RedisScripts.Get, [keys.Items, keys.Taken, keys.Leases, keys.Unfinished, keys.Ids, keys.Meta],
                [acknowledge ? 1 : 0, (long)_options.Lease.TotalMilliseconds, keys.Channel, most], ct).ConfigureAwait(false);
            if (result.IsNull)
            {
                return false;
            }
            var taken = (RedisResult[])result!;
            for (var i = 0; i < taken.Length; i += 3)
            {
                var item = new RedisDelivery(this, queue, (byte[])taken[i + 1]!, (long)taken[i], (int)taken[i + 2]);
                if (item.Id > 0)
                {
                    _taken[item] = 0;
                }
                delivered.Add(item);
            }
            return true;
        }, cancellationToken).ConfigureAwait(false);
        return delivered;
    }

    /// <summary>The oldest item prefetched for <paramref name="queue"/> whose lease this process still holds.</summary>
    private RedisDelivery? TakePrefetched(string queue)
    {
        if (_prefetched.TryGetValue(queue, out var items))
        {
            while (items.TryDequeue(out var item))
            {
                if (_taken.ContainsKey(item))
                {
                    return item;
                }
            }
        }
        return null;
    }

    /// <summary>Acknowledgements made at once by this process go together, in one script.</summary>
    internal async ValueTask AckAsync(RedisDelivery taken, CancellationToken cancellationToken)
    {
        if (!_taken.TryRemove(taken, out _))
        {
            throw new InvalidOperationException($"An item of queue '{taken.Queue}' was acknowledged twice.");
        }
        var acks = _acks.GetOrAdd(taken.Queue, q => new(ids => AckManyAsync(q, ids), MostAtOnce));
        if (await acks.CommitAsync(taken.Id, cancellationToken).ConfigureAwait(false) < 0)
        {
            _logger.LogWarning("An item of queue {Queue} was done after its lease ended; it went back to the queue and may run twice. " +
                "Its consumer stalled for longer than the lease ({Lease}).", taken.Queue, _options.Lease);
        }
    }

    private async Task<IReadOnlyList<long>> AckManyAsync(string queue, IReadOnlyList<long> ids)
    {
        var keys = _keys.Queue(queue);
        var left = (RedisResult[])(await EvaluateAsync(RedisScripts.Ack, [keys.Taken, keys.Leases, keys.Unfinished],
            [keys.Channel, .. ids.Select(id => (RedisValue)id)], CancellationToken.None).ConfigureAwait(false))!;
        return [.. left.Select(result => (long)result)];
    }

    public async ValueTask<long> CountAsync(string queue, CancellationToken cancellationToken) =>
        await RunAsync(static (db, key) => db.ListLengthAsync(key), (RedisKey)_keys.Queue(queue).Items, cancellationToken).ConfigureAwait(false);

    public async ValueTask<bool> JoinAsync(string queue, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var keys = _keys.Queue(queue);
        return await WaitAsync(keys.Channel, timeout, async ct =>
            (long)await RunAsync(static (db, key) => db.StringGetAsync(key), (RedisKey)keys.Unfinished, ct).ConfigureAwait(false) <= 0,
            cancellationToken).ConfigureAwait(false);
    }
}
