using Broker.Transport;

namespace Broker.Transport.Local;

/// <summary>The state of the embedded broker: queues, and the slots of locks and values in <see cref="Memory"/>,
/// handed out under one lock. Each client (this process, or a child over the socket) works through a
/// <see cref="LocalSession"/>, which remembers what that client holds so that its end gives it all back.</summary>
internal sealed class LocalBroker(Func<string> directory)
{
    private readonly Dictionary<string, QueueState> _queues = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Name, SlotUse Use), SlotGrant> _slots = [];
    private readonly List<int> _lockSlots = [];
    private readonly List<SlotUse> _uses = [];
    private readonly Dictionary<int, LinkedList<Waiter<bool>>> _watchers = [];
    private long _lastDelivery;
    private int _lastSession;

    internal object Gate { get; } = new();

    /// <summary>The host's mapping of the slots, which it creates as it hands them out.</summary>
    internal SlotMemory Memory { get; } = new(directory, create: true);

    /// <summary>A Manager's dictionaries, namespaces and lists.</summary>
    internal LocalCollections Collections { get; } = new();

    public LocalSession OpenSession()
    {
        lock (Gate)
        {
            return new(this, ++_lastSession);
        }
    }

    /// <summary>Every slot handed out, by name and use, with its index and kind. Under the broker's lock.</summary>
    internal IEnumerable<(string Name, SlotUse Use, int Index, ScalarKind Kind)> Slots =>
        _slots.Select(s => (s.Key.Name, s.Key.Use, s.Value.Index, s.Value.Kind));

    /// <summary>Every queue a client has used. Under the broker's lock.</summary>
    internal IReadOnlyCollection<QueueState> Queues => _queues.Values;

    /// <summary>The queue of that name, if a client has used it, without making one. Under the broker's lock.</summary>
    internal QueueState? Existing(string name) => _queues.GetValueOrDefault(name);

    internal QueueState Queue(string name)
    {
        if (!_queues.TryGetValue(name, out var queue))
        {
            _queues[name] = queue = new QueueState(name, 0);
        }
        return queue;
    }

    /// <summary>The slot of a name, handed out on its first use; a value's starts at <paramref name="initial"/>.
    /// Under the broker's lock.</summary>
    internal SlotGrant Slot(string name, SlotUse use, Scalar initial, int session)
    {
        if (!_slots.TryGetValue((name, use), out var grant))
        {
            grant = new SlotGrant(_slots.Count, initial.Kind, 0);
            using (var slot = Memory.Open(grant.Index))
            {
                slot.First = use == SlotUse.Value ? initial.Bits : 0;
            }
            _slots[(name, use)] = grant;
            _uses.Add(use);
            if (use == SlotUse.Lock)
            {
                _lockSlots.Add(grant.Index);
            }
        }
        return grant with { Session = session };
    }

    /// <summary>What slot <paramref name="index"/> holds; under the broker's lock, which every notify of it takes
    /// after its change, so that a watcher that finds no change here is listed before the notify that follows.</summary>
    internal long Holds(int index)
    {
        CheckValueSlot(index);
        using var slot = Memory.Open(index);
        return Volatile.Read(ref slot.First);
    }

    /// <summary>The watchers of value slot <paramref name="index"/>; under the broker's lock.</summary>
    internal LinkedList<Waiter<bool>> Watchers(int index)
    {
        CheckValueSlot(index);
        if (!_watchers.TryGetValue(index, out var watchers))
        {
            _watchers[index] = watchers = new();
        }
        return watchers;
    }

    /// <summary>Wakes every watcher of value slot <paramref name="index"/>; under the broker's lock.</summary>
    internal void Notify(int index)
    {
        CheckValueSlot(index);
        if (_watchers.TryGetValue(index, out var watchers))
        {
            while (watchers.First is { } watcher)
            {
                watcher.Value.Detach();
                watcher.Value.TrySetResult(true);
            }
        }
    }

    /// <summary>A client names a slot by its number, which only the broker hands out: any other is a broken client's,
    /// whose connection closes, and which must never make the broker map memory it never handed out.</summary>
    private void CheckValueSlot(int index)
    {
        if ((uint)index >= (uint)_uses.Count || _uses[index] != SlotUse.Value)
        {
            throw new InvalidDataException($"Slot {index} is not a value slot the broker handed out.");
        }
    }

    /// <summary>Frees the locks a session holds; under the broker's lock.</summary>
    internal void FreeLocksOf(int session) => SharedSlots.FreeLocksOf(Memory, session, _lockSlots);

    internal long NextDeliveryId() => ++_lastDelivery;

    internal void Declare(string name, int maxSize)
    {
        if (_queues.TryGetValue(name, out var queue))
        {
            if (queue.MaxSize != maxSize)
            {
                throw new QueueMaxSizeConflictException(name, maxSize, $"Queue '{name}' exists with maxsize {queue.MaxSize}, not {maxSize}.");
            }
            return;
        }
        _queues[name] = new QueueState(name, maxSize);
    }
}

internal sealed class QueueState(string name, int maxSize)
{
    public string Name { get; } = name;
    public int MaxSize { get; } = maxSize;

    /// <summary>Items given back, served first: by a client that ended before acknowledging them, or from a client's
    /// prefetched items; with how often each was delivered.</summary>
    public System.Collections.Generic.Queue<(byte[] Body, int Attempts)> Returned { get; } = new();
    public System.Collections.Generic.Queue<byte[]> Items { get; } = new();
    public long Unacknowledged { get; set; }

    /// <summary>Items prefetched by clients, which their code has not taken yet: they still count as waiting.</summary>
    public int Prefetched { get; set; }

    /// <summary>The sessions holding prefetched items of this queue, and those asked to give them back that have not
    /// answered yet.</summary>
    public HashSet<LocalSession> PrefetchedBy { get; } = [];
    public HashSet<LocalSession> Recalled { get; } = [];

    public LinkedList<Waiter<Delivery?>> Getters { get; } = new();
    public LinkedList<Waiter<bool>> Putters { get; } = new();
    public LinkedList<Waiter<bool>> Joiners { get; } = new();

    /// <summary>The items waiting here, not counting those prefetched by clients.</summary>
    public int Here => Returned.Count + Items.Count;
    public int Count => Here + Prefetched;
    public bool HasRoom => MaxSize == 0 || Count < MaxSize;

    /// <summary>Takes the next item and the number of this delivery.</summary>
    public bool TryTake(out byte[] body, out int attempt)
    {
        if (Returned.TryDequeue(out var returned))
        {
            (body, attempt) = (returned.Body, returned.Attempts + 1);
            return true;
        }
        attempt = 1;
        return Items.TryDequeue(out body!);
    }

    /// <summary>The size of the item <see cref="TryTake"/> would take next, or -1 if none waits.</summary>
    public int NextSize() =>
        Returned.TryPeek(out var returned) ? returned.Body.Length : Items.TryPeek(out var body) ? body.Length : -1;

    /// <summary>Asks every client holding prefetched items of this queue, and not asked yet, to give them back: a
    /// getter waits here while they sit unused in another client.</summary>
    public void Recall()
    {
        foreach (var session in PrefetchedBy)
        {
            if (Recalled.Add(session))
            {
                session.Recall(this);
            }
        }
    }

    /// <summary>Moves items to waiting getters, waiting puts into freed room, and wakes joiners when nothing is
    /// left unfinished; a getter that would not wait gets nothing once every recall is answered. Called under the
    /// broker's lock after every change.</summary>
    public void Pump()
    {
        bool moved;
        do
        {
            moved = false;
            while (Getters.First is { } getter && TryTake(out var body, out var attempt))
            {
                getter.Value.Detach();
                getter.Value.TrySetResult(getter.Value.Session.Deliver(this, body, attempt, ((GetRequest)getter.Value.State!).Acknowledge));
                moved = true;
            }
            while (Putters.First is { } putter && HasRoom)
            {
                putter.Value.Detach();
                Items.Enqueue((byte[])putter.Value.State!);
                putter.Value.TrySetResult(true);
                moved = true;
            }
        }
        while (moved);
        if (Recalled.Count == 0)
        {
            for (var getter = Getters.First; getter is not null;)
            {
                var next = getter.Next;
                if (((GetRequest)getter.Value.State!).UntilRecalled && getter.Value.Detach())
                {
                    getter.Value.TrySetResult(null);
                }
                getter = next;
            }
        }
        if (Count == 0 && Unacknowledged == 0)
        {
            while (Joiners.First is { } joiner)
            {
                joiner.Value.Detach();
                joiner.Value.TrySetResult(true);
            }
        }
    }
}

/// <summary>A waiting get: whether its item is taken with acknowledgement, and whether it waits only for the
/// recall of prefetched items (a get that would not wait otherwise).</summary>
internal sealed record GetRequest(bool Acknowledge, bool UntilRecalled);

/// <summary>An item handed out by the local broker; <see cref="Id"/> is 0 for an item taken without acknowledgement
/// and not prefetched.</summary>
internal sealed class LocalDelivery(string queue, ReadOnlyMemory<byte> body, long id, int attempt, ILocalAcknowledger? acknowledger = null)
    : UnfinishedDelivery(queue, body, attempt)
{
    public long Id { get; } = id;

    /// <exception cref="InvalidOperationException">The item was taken without acknowledgement.</exception>
    public override ValueTask DoneAsync(CancellationToken cancellationToken) =>
        acknowledger?.AckAsync(Id) ?? throw new InvalidOperationException($"An item of queue '{Queue}' taken without acknowledgement has nothing to finish.");
}

/// <summary>Whoever took an item with acknowledgement, in this process: the host's own session, or a child's client.</summary>
internal interface ILocalAcknowledger
{
    /// <summary>Marks the item taken with delivery id <paramref name="deliveryId"/> done.</summary>
    ValueTask AckAsync(long deliveryId);
}

/// <summary>A pending Get, Put or Join: completed by the broker, or by its timeout, its cancellation, or the
/// end of its session.</summary>
internal sealed class Waiter<T> : TaskCompletionSource<T>, IWaiter
{
    private readonly object _gate;
    private readonly T _timedOut;
    private LinkedListNode<Waiter<T>>? _node;
    private CancellationTokenSource? _timer;
    private CancellationTokenRegistration _registration;
    private CancellationToken _caller;

    public Waiter(LocalSession session, object gate, T timedOut, object? state)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        Session = session;
        _gate = gate;
        _timedOut = timedOut;
        State = state;
    }

    public LocalSession Session { get; }

    /// <summary>What the broker needs to complete it: the body of a put, the <see cref="GetRequest"/> of a get.</summary>
    public object? State { get; }

    /// <summary>Queues the waiter and arms its timeout; under the broker's lock.</summary>
    public Task<T> Enlist(LinkedList<Waiter<T>> list, TimeSpan timeout, CancellationToken cancellationToken)
    {
        _node = list.AddLast(this);
        Session.Waiting.Add(this);
        _caller = cancellationToken;
        var expiry = cancellationToken;
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            _timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _timer.CancelAfter(timeout);
            expiry = _timer.Token;
        }
        if (expiry.CanBeCanceled)
        {
            _registration = expiry.UnsafeRegister(static state => ((Waiter<T>)state!).Expire(), this);
        }
        return Task;
    }

    /// <summary>Takes the waiter out of its list; false if something else completed it first. Under the broker's lock.</summary>
    public bool Detach()
    {
        if (_node?.List is not { } list)
        {
            return false;
        }
        list.Remove(_node);
        Session.Waiting.Remove(this);
        _registration.Unregister();
        _timer?.Dispose();
        return true;
    }

    /// <summary>Fails the waiter because its client is gone; under the broker's lock.</summary>
    public void Abandon()
    {
        if (Detach())
        {
            TrySetException(new BrokerUnavailableException("The client ended while waiting."));
        }
    }

    private void Expire()
    {
        lock (_gate)
        {
            if (!Detach())
            {
                return;
            }
        }
        if (_caller.IsCancellationRequested)
        {
            TrySetCanceled(_caller);
        }
        else
        {
            TrySetResult(_timedOut);
        }
    }
}

internal interface IWaiter
{
    void Abandon();
}
