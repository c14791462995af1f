using Broker.Transport;

namespace Broker.Transport.Local;

/// <summary>One client's view of the <see cref="LocalBroker"/>: the items it took and has not acknowledged and the
/// operations it waits on; the locks it holds carry its <see cref="Number"/>. <see cref="Close"/> gives them all
/// back, which is how a child's death frees its locks and redelivers its unfinished items.</summary>
internal sealed class LocalSession(LocalBroker broker, int number) : IQueueBackend, ISlotDirectory
{
    private readonly Dictionary<long, (QueueState Queue, byte[] Body, int Attempt)> _unacknowledged = [];
    private bool _closed;

    public int Number { get; } = number;

    internal HashSet<IWaiter> Waiting { get; } = [];

    private object Gate => broker.Gate;

    public ValueTask DeclareAsync(string queue, int maxSize, CancellationToken cancellationToken)
    {
        lock (Gate)
        {
            ThrowIfClosed();
            broker.Declare(queue, maxSize);
        }
        return default;
    }

    public ValueTask<bool> PutAsync(string queue, ReadOnlyMemory<byte> body, bool joinable, TimeSpan timeout, CancellationToken cancellationToken) =>
        PutOwnedAsync(queue, body.ToArray(), timeout, cancellationToken);

    /// <summary>Puts a body the broker may keep as it is.</summary>
    public ValueTask<bool> PutOwnedAsync(string queue, byte[] body, TimeSpan timeout, CancellationToken cancellationToken)
    {
        lock (Gate)
        {
            ThrowIfClosed();
            var state = broker.Queue(queue);
            if (state.HasRoom && state.Putters.Count == 0)
            {
                state.Items.Enqueue(body);
                state.Pump();
                return new(true);
            }
            return timeout == TimeSpan.Zero
                ? new(false)
                : new(new Waiter<bool>(this, Gate, false, body).Enlist(state.Putters, timeout, cancellationToken));
        }
    }

    public ValueTask<Delivery?> GetAsync(string queue, bool acknowledge, TimeSpan timeout, CancellationToken cancellationToken)
    {
        lock (Gate)
        {
            ThrowIfClosed();
            var state = broker.Queue(queue);
            if (state.TryTake(out var body, out var attempt))
            {
                var delivery = Deliver(state, body, attempt, acknowledge);
                state.Pump();
                return new(delivery);
            }
            return timeout == TimeSpan.Zero
                ? new((Delivery?)null)
                : new(new Waiter<Delivery?>(this, Gate, null, acknowledge).Enlist(state.Getters, timeout, cancellationToken));
        }
    }

    public ValueTask AckAsync(Delivery delivery, CancellationToken cancellationToken) => AckAsync(((LocalDelivery)delivery).Id);

    /// <summary>Acknowledges an item this session took.</summary>
    public ValueTask AckAsync(long deliveryId)
    {
        lock (Gate)
        {
            if (!_unacknowledged.Remove(deliveryId, out var taken))
            {
                throw new InvalidOperationException("An item was acknowledged twice, or by a client that did not take it.");
            }
            taken.Queue.Unacknowledged--;
            taken.Queue.Pump();
        }
        return default;
    }

    public ValueTask<long> CountAsync(string queue, CancellationToken cancellationToken)
    {
        lock (Gate)
        {
            return new(broker.Queue(queue).Count);
        }
    }

    public ValueTask<bool> JoinAsync(string queue, TimeSpan timeout, CancellationToken cancellationToken)
    {
        lock (Gate)
        {
            ThrowIfClosed();
            var state = broker.Queue(queue);
            if (state.Count == 0 && state.Unacknowledged == 0)
            {
                return new(true);
            }
            return timeout == TimeSpan.Zero
                ? new(false)
                : new(new Waiter<bool>(this, Gate, false, null).Enlist(state.Joiners, timeout, cancellationToken));
        }
    }

    public ValueTask<SlotGrant> SlotAsync(string name, SlotUse use, Scalar initial, CancellationToken cancellationToken)
    {
        lock (Gate)
        {
            ThrowIfClosed();
            return new(broker.Slot(name, use, initial, Number));
        }
    }

    /// <summary>Ends the client: its waits fail, its locks go to the next waiter, its unacknowledged items go back to
    /// their queues to be delivered again.</summary>
    public void Close()
    {
        lock (Gate)
        {
            if (_closed)
            {
                return;
            }
            _closed = true;
            foreach (var waiter in Waiting.ToArray())
            {
                waiter.Abandon();
            }
            broker.FreeLocksOf(Number);
            var returned = new HashSet<QueueState>();
            foreach (var (_, taken) in _unacknowledged.OrderBy(pair => pair.Key))
            {
                taken.Queue.Returned.Enqueue((taken.Body, taken.Attempt));
                taken.Queue.Unacknowledged--;
                returned.Add(taken.Queue);
            }
            _unacknowledged.Clear();
            foreach (var queue in returned)
            {
                queue.Pump();
            }
        }
    }

    /// <summary>Hands an item to this session; under the broker's lock.</summary>
    internal Delivery Deliver(QueueState queue, byte[] body, int attempt, bool acknowledge)
    {
        if (!acknowledge)
        {
            return new LocalDelivery(queue.Name, body, 0, attempt);
        }
        var id = broker.NextDeliveryId();
        _unacknowledged[id] = (queue, body, attempt);
        queue.Unacknowledged++;
        return new LocalDelivery(queue.Name, body, id, attempt);
    }

    private void ThrowIfClosed()
    {
        if (_closed)
        {
            throw new ObjectDisposedException(nameof(LocalSession), "The connection to the local broker is closed.");
        }
    }
}
