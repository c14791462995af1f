using Broker.Transport;

namespace Broker.Transport.Local;

/// <summary>One client's view of the <see cref="LocalBroker"/>: the items it took and has not acknowledged, the
/// locks it holds and the operations it waits on. <see cref="Close"/> gives them all back, which is how a child's
/// death frees its locks and redelivers its unfinished items.</summary>
internal sealed class LocalSession(LocalBroker broker) : IQueueBackend, ILockBackend, IValueBackend
{
    private readonly Dictionary<long, (QueueState Queue, byte[] Body, int Attempt)> _unacknowledged = [];
    private readonly HashSet<LockState> _held = [];
    private bool _closed;

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

    public ValueTask<LockLease?> AcquireAsync(string name, string owner, TimeSpan timeout, CancellationToken cancellationToken)
    {
        lock (Gate)
        {
            ThrowIfClosed();
            var state = broker.Lock(name);
            if (state.Owner is null)
            {
                return new(Grant(state, owner));
            }
            return timeout == TimeSpan.Zero
                ? new((LockLease?)null)
                : new(new Waiter<LockLease?>(this, Gate, null, owner).Enlist(state.Waiters, timeout, cancellationToken));
        }
    }

    public ValueTask ReleaseAsync(string name, string owner, CancellationToken cancellationToken)
    {
        lock (Gate)
        {
            var state = broker.Lock(name);
            if (state.Owner != owner)
            {
                throw new LockNotOwnedException($"Lock '{name}' is not held by this owner.");
            }
            Free(state);
        }
        return default;
    }

    public ValueTask<Scalar> GetAsync(string name, ScalarKind kind, CancellationToken cancellationToken)
    {
        lock (Gate)
        {
            return new(broker.Values.TryGetValue(name, out var value) ? value.As(kind) : Scalar.Zero(kind));
        }
    }

    public ValueTask InitializeAsync(string name, Scalar initial, CancellationToken cancellationToken)
    {
        lock (Gate)
        {
            broker.Values.TryAdd(name, initial);
        }
        return default;
    }

    public ValueTask SetAsync(string name, Scalar value, CancellationToken cancellationToken)
    {
        lock (Gate)
        {
            broker.Values[name] = value;
        }
        return default;
    }

    public ValueTask<Scalar> AddAsync(string name, Scalar delta, CancellationToken cancellationToken)
    {
        lock (Gate)
        {
            var sum = (broker.Values.TryGetValue(name, out var value) ? value : Scalar.Zero(delta.Kind)).Add(delta).As(delta.Kind);
            broker.Values[name] = sum;
            return new(sum);
        }
    }

    public ValueTask<Scalar> CompareExchangeAsync(string name, Scalar value, Scalar comparand, CancellationToken cancellationToken)
    {
        lock (Gate)
        {
            var current = broker.Values.TryGetValue(name, out var found) ? found.As(value.Kind) : Scalar.Zero(value.Kind);
            if (current.NumericallyEquals(comparand))
            {
                broker.Values[name] = value;
            }
            return new(current);
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
            foreach (var state in _held.ToArray())
            {
                Free(state);
            }
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

    private LockLease Grant(LockState state, string owner)
    {
        state.Owner = owner;
        state.Holder = this;
        state.FencingToken++;
        _held.Add(state);
        return new LockLease(state.FencingToken, CancellationToken.None);
    }

    private static void Free(LockState state)
    {
        state.Holder?._held.Remove(state);
        state.Owner = null;
        state.Holder = null;
        if (state.Waiters.First is { } next)
        {
            next.Value.Detach();
            next.Value.TrySetResult(next.Value.Session.Grant(state, (string)next.Value.State!));
        }
    }

    private void ThrowIfClosed()
    {
        if (_closed)
        {
            throw new ObjectDisposedException(nameof(LocalSession), "The connection to the local broker is closed.");
        }
    }
}
