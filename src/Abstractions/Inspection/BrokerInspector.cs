using Broker.Diagnostics;
using Broker.Pools;
using Broker.Transport;

namespace Broker;

/// <summary>An operator's view of a broker, what the <c>broker</c> command-line tool shows: every queue with its counts,
/// the dead letters of one and the means to put them back or purge them, the locks and the values. It sees what every
/// process made, not only this one's, on every transport that has the backends' <c>Inspection</c>.</summary>
public sealed class BrokerInspector
{
    private const string DeadSuffix = ".dead";

    private readonly BrokerContext _context;

    /// <param name="broker">The broker; <see cref="BrokerContext.Default"/> by default.</param>
    public BrokerInspector(BrokerContext? broker = null) => _context = broker ?? BrokerContext.Default;

    private IQueueInspection Inspection => _context.Queues.Inspection
        ?? throw new NotSupportedException($"The transport of {_context.Url} cannot list its queues or show their items.");

    /// <summary>Every queue on the broker with its counts, by name; the dead letters of a queue are counted in its
    /// <see cref="QueueStatus.DeadLetters"/>, not shown as a queue of their own.</summary>
    /// <exception cref="NotSupportedException">The transport cannot list its queues.</exception>
    /// <exception cref="BrokerUnavailableException">The broker did not answer.</exception>
    public async ValueTask<IReadOnlyList<QueueStatus>> QueuesAsync(CancellationToken cancellationToken = default)
    {
        var counts = (await Inspection.ListAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(c => c.Name, StringComparer.Ordinal);
        return [.. counts.Values
            .Where(c => !(c.Name.EndsWith(DeadSuffix, StringComparison.Ordinal) && counts.ContainsKey(c.Name[..^DeadSuffix.Length])))
            .Select(c => new QueueStatus(c.Name, c.Waiting, c.Unfinished, counts.TryGetValue(c.Name + DeadSuffix, out var dead) ? dead.Waiting : 0, c.Consumers))
            .OrderBy(c => c.Name, StringComparer.Ordinal)];
    }

    /// <summary>Every lock on the broker, held or free, by name.</summary>
    /// <exception cref="NotSupportedException">The transport that keeps locks cannot list them.</exception>
    /// <exception cref="BrokerUnavailableException">The broker did not answer.</exception>
    public async ValueTask<IReadOnlyList<LockStatus>> LocksAsync(CancellationToken cancellationToken = default)
    {
        var inspection = _context.Locks.Inspection ?? throw new NotSupportedException($"The transport of {_context.Url} that keeps locks cannot list them.");
        return [.. (await inspection.ListAsync(cancellationToken).ConfigureAwait(false)).OrderBy(l => l.Name, StringComparer.Ordinal)];
    }

    /// <summary>Every number on the broker (values, array elements, the synchronization primitives' own), by name.</summary>
    /// <exception cref="NotSupportedException">The transport that keeps values cannot list them.</exception>
    /// <exception cref="BrokerUnavailableException">The broker did not answer.</exception>
    public async ValueTask<IReadOnlyList<ValueStatus>> ValuesAsync(CancellationToken cancellationToken = default)
    {
        var inspection = _context.Values.Inspection ?? throw new NotSupportedException($"The transport of {_context.Url} that keeps values cannot list them.");
        return [.. (await inspection.ListAsync(cancellationToken).ConfigureAwait(false)).OrderBy(v => v.Name, StringComparer.Ordinal)];
    }

    /// <summary>Every process that runs worker processes for a pool, by pool, machine and pid, from the heartbeats they
    /// publish; one gone within the last hour shows with <see cref="PoolHostStatus.Alive"/> false.</summary>
    /// <exception cref="PrimitiveNotSupportedException">No transport of the broker keeps dictionaries and values, which
    /// heartbeats need (a URL of RabbitMQ alone).</exception>
    /// <exception cref="BrokerUnavailableException">The broker did not answer.</exception>
    public async ValueTask<IReadOnlyList<PoolHostStatus>> WorkersAsync(CancellationToken cancellationToken = default)
    {
        var entries = await _context.Maps.EntriesAsync(Heartbeat.Map, cancellationToken).ConfigureAwait(false);
        var now = _context.Options.TimeProvider.GetUtcNow();
        return [.. entries.Select(e => Heartbeat.TryRead(_context, e.Value)).OfType<Heartbeat>()
            .Select(b => new PoolHostStatus(b.Machine, b.Pid, b.Pool, b.Processes, b.TasksDone, b.Started, b.At, now - b.At <= Heartbeat.Lease))
            .OrderBy(h => h.Pool, StringComparer.Ordinal).ThenBy(h => h.Machine, StringComparer.Ordinal).ThenBy(h => h.Pid)];
    }

    /// <summary>One queue with its counts, as <see cref="QueuesAsync"/> shows it.</summary>
    /// <exception cref="QueueNotFoundException">The broker has no such queue.</exception>
    public async ValueTask<QueueStatus> QueueAsync(string queue, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        return (await QueuesAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(q => q.Name == queue)
            ?? throw new QueueNotFoundException(queue, $"Queue '{queue}' does not exist on {_context.Url}.");
    }

    /// <summary>Up to <paramref name="most"/> of the oldest dead letters of <paramref name="queue"/>, each with the reason
    /// its item could not be read; they stay where they are. A dead letter that cannot be read itself comes with that
    /// reason, its bytes as its <see cref="DeadLetter.Body"/>, and no time.</summary>
    /// <exception cref="QueueNotFoundException">The broker has no such queue.</exception>
    public async ValueTask<IReadOnlyList<DeadLetter>> PeekDeadLettersAsync(string queue, int most = 100, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(most);
        await QueueAsync(queue, cancellationToken).ConfigureAwait(false);
        var bodies = await Inspection.PeekAsync(queue + DeadSuffix, most, cancellationToken).ConfigureAwait(false);
        return [.. bodies.Select(body => TryRead(queue, body, out var letter, out var problem)
            ? letter
            : new DeadLetter(queue, $"This dead letter cannot be read: {problem}", body.ToArray(), default))];
    }

    /// <summary>Puts the dead letters of <paramref name="queue"/> that are there when it begins back on the queue, each
    /// item whole, as it was put, oldest first; returns how many. Each counts as unfinished again, for a Join. A dead
    /// letter leaves its queue only once its item is back, so a crash half-way loses none (one may then be there twice).</summary>
    /// <exception cref="QueueNotFoundException">The broker has no such queue.</exception>
    /// <exception cref="BrokerSerializationException">A dead letter cannot be read; it and those after it stay.</exception>
    public async ValueTask<long> RequeueDeadLettersAsync(string queue, CancellationToken cancellationToken = default)
    {
        await QueueAsync(queue, cancellationToken).ConfigureAwait(false);
        var backend = _context.Queues;
        return await DrainAsync(queue + DeadSuffix, async delivery =>
        {
            if (!TryRead(queue, delivery.Body, out var letter, out var problem))
            {
                throw new BrokerSerializationException($"A dead letter of queue '{queue}' cannot be read, so it stays: {problem}");
            }
            var item = letter.Body;
            if (item.Length > backend.MaxItemSize)
            {
                throw new ItemTooLargeException(queue, item.Length, backend.MaxItemSize);
            }
            await backend.Joinable.PutAsync(queue, item, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes the dead letters of <paramref name="queue"/> that are there when it begins; returns how many.</summary>
    /// <exception cref="QueueNotFoundException">The broker has no such queue.</exception>
    public async ValueTask<long> PurgeDeadLettersAsync(string queue, CancellationToken cancellationToken = default)
    {
        await QueueAsync(queue, cancellationToken).ConfigureAwait(false);
        return await DrainAsync(queue + DeadSuffix, static _ => ValueTask.CompletedTask, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes the items waiting in <paramref name="queue"/> when it begins; returns how many. Each deleted item
    /// counts as done, so a <see cref="JoinableQueue{T}.JoinAsync"/> waits only for the items taken and not done yet.
    /// Items put meanwhile stay.</summary>
    /// <exception cref="QueueNotFoundException">The broker has no such queue.</exception>
    public async ValueTask<long> PurgeAsync(string queue, CancellationToken cancellationToken = default)
    {
        await QueueAsync(queue, cancellationToken).ConfigureAwait(false);
        return await DrainAsync(queue, static _ => ValueTask.CompletedTask, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Takes the items waiting in <paramref name="queue"/> when it begins, each as a joinable take that
    /// <paramref name="handle"/> sees before it is done: every transport's count for Join then stays exact.</summary>
    private async ValueTask<long> DrainAsync(string queue, Func<Delivery, ValueTask> handle, CancellationToken cancellationToken)
    {
        var joinable = _context.Queues.Joinable;
        var waiting = await _context.Queues.CountAsync(queue, cancellationToken).ConfigureAwait(false);
        long drained = 0;
        while (drained < waiting && await joinable.TakeAsync(queue, TimeSpan.Zero, cancellationToken).ConfigureAwait(false) is { } delivery)
        {
            await handle(delivery).ConfigureAwait(false);
            await delivery.DoneAsync(cancellationToken).ConfigureAwait(false);
            drained++;
        }
        return drained;
    }

    private bool TryRead(string queue, ReadOnlyMemory<byte> body, out DeadLetter letter, out string? problem)
    {
        letter = null!;
        if (TraceEnvelope.TryUnwrap(body, out var json, out _, out problem))
        {
            try
            {
                letter = _context.Serializer.Deserialize<DeadLetter>(json.Span, $"a dead letter of queue '{queue}'");
                return true;
            }
            catch (BrokerSerializationException e)
            {
                problem = e.Message;
            }
        }
        return false;
    }
}
