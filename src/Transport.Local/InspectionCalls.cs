using Broker.Transport;

namespace Broker.Transport.Local;

/// <summary>The local broker's inspections of its queues, locks and values, in the <see cref="CollectionCalls"/>
/// encoding (<c>[op][arguments]</c>, answered by the result): the host's own calls and its children's go through
/// <see cref="Run"/>.</summary>
internal static class InspectionCalls
{
    private enum InspectionOp : byte
    {
        List = 1,
        Peek,
        Locks,
        Values,
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
                {
                    var queues = broker.Queues;
                    result.Int64(queues.Count);
                    foreach (var queue in queues)
                    {
                        result.String(queue.Name).Int64(queue.Count).Int64(queue.Count + queue.Unacknowledged);
                    }
                    break;
                }
                case InspectionOp.Peek:
                {
                    var (name, most) = (call.String(), call.Int64());
                    var items = broker.Existing(name) is { } found
                        ? found.Returned.Select(r => r.Body).Concat(found.Items).Take((int)Math.Min(most, int.MaxValue)).ToList()
                        : [];
                    result.Int64(items.Count);
                    foreach (var item in items)
                    {
                        result.Blob(item);
                    }
                    break;
                }
                case InspectionOp.Locks:
                {
                    var locks = broker.Slots.Where(s => s.Use == SlotUse.Lock).ToList();
                    result.Int64(locks.Count);
                    foreach (var (name, _, index, _) in locks)
                    {
                        using var slot = broker.Memory.Open(index);
                        result.String(name).Int64(Volatile.Read(ref slot.First)).Int64(Volatile.Read(ref slot.Second));
                    }
                    break;
                }
                case InspectionOp.Values:
                {
                    var values = broker.Slots.Where(s => s.Use == SlotUse.Value).ToList();
                    result.Int64(values.Count);
                    foreach (var (name, _, index, kind) in values)
                    {
                        using var slot = broker.Memory.Open(index);
                        result.String(name).Byte((byte)kind).Int64(Volatile.Read(ref slot.First));
                    }
                    break;
                }
                default:
                    throw new InvalidDataException("An inspection call names no step the broker knows.");
            }
        }
        return result.ToArray();
    }

    /// <summary>Sends <paramref name="request"/> and reads its result, a count and then as many elements.</summary>
    private static async ValueTask<IReadOnlyList<T>> ListAsync<T>(CollectionCalls.Call call, byte[] request, Func<CollectionCalls.Reader, T> read,
        CancellationToken cancellationToken)
    {
        var result = new CollectionCalls.Reader(await call(request, cancellationToken).ConfigureAwait(false));
        var elements = new T[result.Count()];
        for (var i = 0; i < elements.Length; i++)
        {
            elements[i] = read(result);
        }
        return elements;
    }

    /// <summary>The queues' inspection, reached through <paramref name="call"/>.</summary>
    public sealed class Queues(CollectionCalls.Call call) : IQueueInspection
    {
        public ValueTask<IReadOnlyList<QueueCounts>> ListAsync(CancellationToken cancellationToken) =>
            InspectionCalls.ListAsync(call, [(byte)InspectionOp.List], r => new QueueCounts(r.String(), r.Int64(), r.Int64(), null), cancellationToken);

        public ValueTask<IReadOnlyList<ReadOnlyMemory<byte>>> PeekAsync(string queue, int most, CancellationToken cancellationToken) =>
            InspectionCalls.ListAsync(call, new CollectionCalls.Writer().Byte((byte)InspectionOp.Peek).String(queue).Int64(most).ToArray(),
                r => (ReadOnlyMemory<byte>)(r.Blob() ?? throw new InvalidDataException("A peeked item cannot be missing.")), cancellationToken);
    }

    /// <summary>The locks' inspection, reached through <paramref name="call"/>. A holder is named by its client's
    /// session with the broker, the one that frees its locks when its connection ends.</summary>
    public sealed class Locks(CollectionCalls.Call call) : ILockInspection
    {
        public ValueTask<IReadOnlyList<LockStatus>> ListAsync(CancellationToken cancellationToken) =>
            InspectionCalls.ListAsync(call, [(byte)InspectionOp.Locks], r =>
            {
                var (name, mark, token) = (r.String(), r.Int64(), r.Int64());
                return new LockStatus(name, mark == 0 ? null : $"client {mark >> 32}, acquisition {(uint)mark}", token, null);
            }, cancellationToken);
    }

    /// <summary>The values' inspection, reached through <paramref name="call"/>.</summary>
    public sealed class Values(CollectionCalls.Call call) : IValueInspection
    {
        public ValueTask<IReadOnlyList<ValueStatus>> ListAsync(CancellationToken cancellationToken) =>
            InspectionCalls.ListAsync(call, [(byte)InspectionOp.Values], r =>
            {
                var (name, kind) = (r.String(), (ScalarKind)r.Byte());
                return new ValueStatus(name, Scalar.FromBits(kind, r.Int64()));
            }, cancellationToken);
    }
}
