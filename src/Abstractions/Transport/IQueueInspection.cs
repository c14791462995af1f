namespace Broker.Transport;

/// <summary>What an operator's tools read of the queues a transport keeps, without taking anything: which queues there
/// are, with their counts, and the items waiting at the head of one. <see cref="IQueueBackend.Inspection"/> gives it.</summary>
public interface IQueueInspection
{
    /// <summary>Every queue in this URL's namespace (its key prefix, its virtual host), with its counts, in no set
    /// order; none of the transport's own bookkeeping.</summary>
    ValueTask<IReadOnlyList<QueueCounts>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="most"/> of the oldest items waiting in <paramref name="queue"/>, oldest first, as
    /// they were stored. They stay where they are, for the next consumer; a transport that can only look at an item by
    /// taking it gives it back in its place.</summary>
    ValueTask<IReadOnlyList<ReadOnlyMemory<byte>>> PeekAsync(string queue, int most, CancellationToken cancellationToken);
}

/// <summary>One queue's counts, as a transport keeps them.</summary>
/// <param name="Name">The queue's name.</param>
/// <param name="Waiting">Items waiting to be taken.</param>
/// <param name="Unfinished">Items put and not yet done, what a Join waits for (waiting ones included); <c>null</c>
/// where the queue has never been used as a joinable queue and the transport keeps no count for it.</param>
/// <param name="Consumers">Consumers attached to the queue; <c>null</c> where the transport does not know.</param>
public readonly record struct QueueCounts(string Name, long Waiting, long? Unfinished, int? Consumers);
