using Broker.Transport;

namespace Broker.Transport.Local;

/// <summary>The local broker's <see cref="IQueueInspection"/>, in the <see cref="CollectionCalls"/> encoding
/// (<c>[op][arguments]</c>, answered by the result): the host's own calls and its children's go through
/// <see cref="Run"/>.</summary>
internal static class InspectionCalls
{
    private enum InspectionOp : byte
    {
        List = 1,
        Peek,
    }

    /// <summary>Runs one encoded request on <paramref name="broker"/>'s queues, under its lock.</summary>
    /// <exception cref="EndOfStreamException">The request is cut short.</exception>
    /// <exception cref="InvalidDataException">The request is not one.</exception>
    public static byte[] Run(LocalBroker broker, byte[] request)
    {
        var call = new CollectionCalls.Reader(request);
        var result = new CollectionCalls.Writer();
        lock (broker.Gate)
        {
            switch ((InspectionOp)call.Byte())
            {
                case InspectionOp.List:
                    var queues = broker.Queues;
                    result.Int64(queues.Count);
                    foreach (var queue in queues)
                    {
                        result.String(queue.Name).Int64(queue.Count).Int64(queue.Count + queue.Unacknowledged);
                    }
                    break;
                case InspectionOp.Peek:
                    var (name, most) = (call.String(), call.Int64());
                    var items = broker.Queues.FirstOrDefault(q => q.Name == name) is { } found
                        ? found.Returned.Select(r => r.Body).Concat(found.Items).Take((int)Math.Min(most, int.MaxValue)).ToList()
                        : [];
                    result.Int64(items.Count);
                    foreach (var item in items)
                    {
                        result.Blob(item);
                    }
                    break;
                default:
                    throw new InvalidDataException("An inspection call names no step the broker knows.");
            }
        }
        return result.ToArray();
    }

    /// <summary>The queues' inspection, reached through <paramref name="call"/>.</summary>
    public sealed class Queues(CollectionCalls.Call call) : IQueueInspection
    {
        public async ValueTask<IReadOnlyList<QueueCounts>> ListAsync(CancellationToken cancellationToken)
        {
            var result = new CollectionCalls.Reader(await call([(byte)InspectionOp.List], cancellationToken).ConfigureAwait(false));
            var counts = new QueueCounts[result.Count()];
            for (var i = 0; i < counts.Length; i++)
            {
                counts[i] = new QueueCounts(result.String(), result.Int64(), result.Int64(), null);
            }
            return counts;
        }

        public async ValueTask<IReadOnlyList<ReadOnlyMemory<byte>>> PeekAsync(string queue, int most, CancellationToken cancellationToken)
        {
            var request = new CollectionCalls.Writer().Byte((byte)InspectionOp.Peek).String(queue).Int64(most).ToArray();
            var result = new CollectionCalls.Reader(await call(request, cancellationToken).ConfigureAwait(false));
            var items = new ReadOnlyMemory<byte>[result.Count()];
            for (var i = 0; i < items.Length; i++)
            {
                items[i] = result.Blob() ?? throw new InvalidDataException("A peeked item cannot be missing.");
            }
            return items;
        }
    }
}
