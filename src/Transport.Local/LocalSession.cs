using System.Runtime.InteropServices;
using Broker.Transport;

namespace Broker.Transport.Local;

/// <summary>One client's view of the <see cref="LocalBroker"/>: the items it took and has not acknowledged, the items
/// prefetched by it that its code has not taken yet, and the operations it waits on; the locks it holds carry its
/// <see cref="Number"/>. <see cref="Close"/> gives them all back, which is how a child's death frees its locks and
/// redelivers its unfinished items.</summary>
internal sealed class LocalSession(LocalBroker broker, int number) : IQueueBackend, IJoinableQueueBackend, ILocalAcknowledger, ISlotDirectory
{
    /// <summary>The most body bytes one get prefetches: they are pushed under the broker's lock, which large items
    /// would hold too long.</summary>
    private const int MostBytesPrefetched = 64 * 1024;

    private readonly Dictionary<long, (QueueState Queue, byte[] Body, int Attempt)> _unacknowledged = [];
    private readonly Dictionary<long, Prefetched> _prefetched = [];
    // How many of _prefetched each queue gave: counted, so that a report of taken items need not search them.
    private readonly Dictionary<QueueState, int> _prefetchedFrom = [];
    private bool _closed;

    public int Number { get; } = number;

    /// <summary>The client that receives prefetched items and recalls; none for the host's own session, which asks
    /// for no prefetched items.</summary>
    internal IPrefetchClient? Client { get; set; }

    internal HashSet<IWaiter> Waiting { get; } = [];

    private object Gate => broker.Gate;

    /// <summary>The broker this session is of.</summary>
    internal LocalBroker Broker => broker;

    public int MaxItemSize => Wire.MaxItem;

    public IQueueInspection Inspection => field ??= new InspectionCalls.Queues(InspectAsync);

    public ValueTask<byte[]> InspectAsync(byte[] request, CancellationToken cancellationToken) => new(InspectionCalls.Run(broker, request));

    public ValueTask DeclareAsync(string queue, int maxSize, CancellationToken cancellationToken)
    {
        lock (Gate)
        {
            ThrowIfClosed();
            broker.Declare(queue, maxSize);
        }
        return default;
    }

    public IJoinableQueueBackend Joinable => this;

    /// <summary>Every item counts for Join here, so one put serves plain and joinable queues alike.</summary>
    public ValueTask<bool> PutAsync(string queue, ReadOnlyMemory<byte> body, TimeSpan timeout, CancellationToken cancellationToken) =>
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

    public ValueTask<Delivery?> GetAsync(string queue, TimeSpan timeout, CancellationToken cancellationToken) =>
        GetAsync(queue, acknowledge: false, timeout, 0, cancellationToken);

    public async ValueTask<UnfinishedDelivery?> TakeAsync(string queue, TimeSpan timeout, CancellationToken cancellationToken) =>
        (LocalDelivery?)await GetAsync(queue, acknowledge: true, timeout, 0, cancellationToken).ConfigureAwait(false);

    /// <summary>Takes the oldest item and, when more wait and nobody else waits for them, hands up to
    /// <paramref name="prefetch"/> more to the <see cref="Client"/> for its next gets (an unbounded queue only,
    /// where they take no room from a producer). A get that finds nothing recalls what other clients prefetched.</summary>
    public ValueTask<Delivery?> GetAsync(string queue, bool acknowledge, TimeSpan timeout, int prefetch, CancellationToken cancellationToken)
    {
        lock (Gate)
        {
            ThrowIfClosed();
            var state = broker.Queue(queue);
            if (state.TryTake(out var body, out var attempt))
            {
                var delivery = Deliver(state, body, attempt, acknowledge);
                if (prefetch > 0 && state.MaxSize == 0 && state.Getters.Count == 0)
                {
                    SendPrefetched(state, acknowledge, Math.Min(prefetch, state.Here / 2));
                }
                state.Pump();
                return new(delivery);
            }
            state.Recall();
            if (timeout == TimeSpan.Zero && state.Recalled.Count == 0)
            {
                return new((Delivery?)null);
            }
            var request = new GetRequest(acknowledge, UntilRecalled: timeout == TimeSpan.Zero);
            return new(new Waiter<Delivery?>(this, Gate, null, request)
                .Enlist(state.Getters, request.UntilRecalled ? Timeout.InfiniteTimeSpan : timeout, cancellationToken));
        }
    }

    /// <summary>The client's code took these prefetched items: each is delivered now, and unfinished until
    /// acknowledged if it was taken with acknowledgement.</summary>
    /// <exception cref="InvalidDataException">This session holds no such item: a broken client.</exception>
    public void Consumed(IReadOnlyList<long> deliveryIds)
    {
        if (deliveryIds.Count == 0)
        {
            return;
        }
        lock (Gate)
        {
            var queues = new List<QueueState>(1);
            foreach (var id in deliveryIds)
            {
                if (!_prefetched.Remove(id, out var item))
                {
                    throw new InvalidDataException($"The client took item {id}, which it was not handed.");
                }
                Take(id, item);
                if (!queues.Contains(item.Queue))
                {
                    queues.Add(item.Queue);
                }
            }
            foreach (var queue in queues)
            {
                ForgetIfEmpty(queue);
                queue.Pump();
            }
        }
    }

    /// <summary>The client's answer to a recall: the prefetched items of <paramref name="queue"/> it had not taken,
    /// in order, go back to the front of the queue as they were; it reports <paramref name="taken"/> with them.</summary>
    /// <exception cref="InvalidDataException">This session holds no such item: a broken client.</exception>
    public void GaveBack(string queue, IReadOnlyList<long> deliveryIds, IReadOnlyList<long> taken)
    {
        Consumed(taken);
        lock (Gate)
        {
            var state = broker.Queue(queue);
            foreach (var id in deliveryIds)
            {
                if (!_prefetched.Remove(id, out var item) || item.Queue != state)
                {
                    throw new InvalidDataException($"The client gave back item {id} of queue '{queue}', which it does not hold.");
                }
                Unhold(state);
                state.Returned.Enqueue((item.Body, item.Attempt - 1));
            }
            state.Recalled.Remove(this);
            ForgetIfEmpty(state);
            state.Pump();
        }
    }

    /// <summary>Asks the client to give back its prefetched items of <paramref name="queue"/>; under the broker's lock.</summary>
    internal void Recall(QueueState queue) => Client!.Recall(queue.Name);

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

    public ValueTask<bool> WatchAsync(int index, long seen, TimeSpan timeout, CancellationToken cancellationToken)
    {
        lock (Gate)
        {
            ThrowIfClosed();
            if (broker.Holds(index) != seen)
            {
                return new(true);
            }
            return timeout == TimeSpan.Zero
                ? new(false)
                : new(new Waiter<bool>(this, Gate, false, null).Enlist(broker.Watchers(index), timeout, cancellationToken));
        }
    }

    public ValueTask NotifyAsync(int index, CancellationToken cancellationToken)
    {
        lock (Gate)
        {
            broker.Notify(index);
        }
        return default;
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
            // Unacknowledged items were delivered, and count another attempt; prefetched ones were not. Oldest first.
            var giveBack = _unacknowledged.Select(pair => (Id: pair.Key, pair.Value.Queue, pair.Value.Body, Attempts: pair.Value.Attempt))
                .Concat(_prefetched.Select(pair => (Id: pair.Key, pair.Value.Queue, pair.Value.Body, Attempts: pair.Value.Attempt - 1)))
                .OrderBy(item => item.Id);
            var returned = new HashSet<QueueState>(_prefetchedFrom.Keys);
            foreach (var item in giveBack)
            {
                item.Queue.Returned.Enqueue((item.Body, item.Attempts));
                returned.Add(item.Queue);
            }
            foreach (var (_, taken) in _unacknowledged)
            {
                taken.Queue.Unacknowledged--;
            }
            foreach (var (queue, count) in _prefetchedFrom)
            {
                queue.Prefetched -= count;
            }
            _unacknowledged.Clear();
            _prefetched.Clear();
            _prefetchedFrom.Clear();
            foreach (var queue in returned)
            {
                queue.PrefetchedBy.Remove(this);
                queue.Recalled.Remove(this);
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
        return new LocalDelivery(queue.Name, body, id, attempt, this);
    }

    /// <summary>Moves a prefetched item to taken: delivered, and unacknowledged if taken with acknowledgement.</summary>
    private void Take(long id, Prefetched item)
    {
        Unhold(item.Queue);
        if (item.Acknowledge)
        {
            _unacknowledged[id] = (item.Queue, item.Body, item.Attempt);
            item.Queue.Unacknowledged++;
        }
    }

    private void SendPrefetched(QueueState queue, bool acknowledge, int count)
    {
        var items = new List<LocalDelivery>(count);
        var bytes = 0;
        while (items.Count < count && queue.NextSize() is var size and >= 0 && (bytes += size) <= MostBytesPrefetched
            && queue.TryTake(out var body, out var attempt))
        {
            var id = broker.NextDeliveryId();
            _prefetched[id] = new Prefetched(queue, body, attempt, acknowledge);
            queue.Prefetched++;
            CollectionsMarshal.GetValueRefOrAddDefault(_prefetchedFrom, queue, out _)++;
            items.Add(new LocalDelivery(queue.Name, body, id, attempt));
        }
        if (items.Count == 0)
        {
            return;
        }
        queue.PrefetchedBy.Add(this);
        Client!.Prefetched(queue.Name, acknowledge, items);
    }

    /// <summary>Stops counting this session among the holders of <paramref name="queue"/>'s prefetched items once it
    /// holds none and owes no answer to a recall.</summary>
    private void ForgetIfEmpty(QueueState queue)
    {
        if (!queue.Recalled.Contains(this) && _prefetchedFrom.GetValueOrDefault(queue) == 0)
        {
            queue.PrefetchedBy.Remove(this);
            _prefetchedFrom.Remove(queue);
        }
    }

    /// <summary>One item prefetched from <paramref name="queue"/> left this session: taken or given back.</summary>
    private void Unhold(QueueState queue)
    {
        queue.Prefetched--;
        _prefetchedFrom[queue]--;
    }

    private void ThrowIfClosed()
    {
        if (_closed)
        {
            throw new ObjectDisposedException(nameof(LocalSession), "The connection to the local broker is closed.");
        }
    }
}

internal readonly record struct Prefetched(QueueState Queue, byte[] Body, int Attempt, bool Acknowledge);

/// <summary>The client side of prefetching, as the broker reaches it: frames pushed on the client's connection.</summary>
internal interface IPrefetchClient
{
    /// <summary>Items prefetched for the client's next gets; sent before the answer to the get that took them.</summary>
    void Prefetched(string queue, bool acknowledge, IReadOnlyList<LocalDelivery> items);

    /// <summary>Asks for the prefetched items of <paramref name="queue"/> that the client's code has not taken.</summary>
    void Recall(string queue);
}
