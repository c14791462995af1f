using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Broker.Diagnostics;
using Broker.Serialization;
using Broker.Transport;
using Microsoft.Extensions.Logging;

namespace Broker;

/// <summary>A FIFO queue shared by processes, like <c>multiprocessing.Queue</c>. Items are JSON of type
/// <typeparamref name="T"/>; an item that cannot be read goes to <see cref="DeadLetters"/> with the reason.
/// An item taken by <see cref="Get"/> is gone: use <see cref="JoinableQueue{T}"/> for items that must survive a
/// consumer's crash.</summary>
public class Queue<T> : BrokerHandle
{
    private const string Kind = "queue";

    /// <param name="maxsize">The most items the broker keeps waiting; 0 (the default) for no limit.</param>
    /// <param name="name">The queue's name on the broker; a unique one by default.</param>
    /// <param name="broker">The broker; <see cref="BrokerContext.Default"/> by default.</param>
    public Queue(int maxsize = 0, string? name = null, BrokerContext? broker = null)
        : this(broker, name, maxsize)
    {
    }

    /// <remarks>Every handle declares its queue before first use, a child's too: declaring is idempotent, and it
    /// tells the transport the queue's maxsize.</remarks>
    private protected Queue(BrokerContext? broker, string? name, int maxsize)
        : base(broker, name, Kind, create: true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxsize);
        MaxSize = maxsize;
    }

    /// <summary>The most items the broker keeps waiting, or 0 for no limit.</summary>
    public int MaxSize { get; }

    /// <summary>Where items that cannot be read as <typeparamref name="T"/> go, each with its reason: the queue
    /// named <c>{Name}.dead</c>.</summary>
    public Queue<DeadLetter> DeadLetters => new(Context, Name + ".dead", 0);

    private protected virtual bool Joinable => false;

    private protected IQueueBackend Backend => Context.Queues;

    /// <summary>Whether puts and gets have spans and count in the metrics, and items carry the trace context: not on
    /// a pool's own queues, whose tasks carry each its own context and count as tasks.</summary>
    internal bool Traced { get; set; } = true;

    /// <summary>Appends <paramref name="item"/>, waiting up to <paramref name="timeout"/> (null: without limit)
    /// while the queue is full. Returns once the broker has accepted it.</summary>
    /// <exception cref="QueueFullException">The queue stayed full for the whole timeout.</exception>
    /// <exception cref="BrokerSerializationException">The item cannot be serialized.</exception>
    /// <exception cref="ItemTooLargeException">The item, serialized, is larger than <see cref="MaxItemSize"/>.</exception>
    public ValueTask PutAsync(T item, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Traced && Telemetry.Source.HasListeners()
            // The item carries the context of the put's span.
            ? InSpanAsync(() => PutItemAsync(item, timeout, cancellationToken), Telemetry.SendOperation, "put", ActivityKind.Producer)
            : PutItemAsync(item, timeout, cancellationToken);

    private async ValueTask PutItemAsync(T item, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var body = Write(item, out var uncreated);
        await HandlesWritten.CreateAsync(uncreated, cancellationToken).ConfigureAwait(false);
        await PutBodyAsync(body, timeout, cancellationToken).ConfigureAwait(false);
        Count(Telemetry.Sent);
    }

    /// <summary>The item's body, with the current trace context in front, refused if too large; the handles it names
    /// that do not exist yet come out.</summary>
    private protected byte[] Write(T item, out IReadOnlyList<BrokerHandle> uncreated)
    {
        var json = HandlesWritten.Write(static s => s.Queue.Context.Serializer.Serialize(s.item, $"an item of queue '{s.Queue.Name}'"),
            (Queue: this, item), out uncreated);
        var body = Traced ? TraceEnvelope.Wrap(json, Activity.Current) : json;
        if (body.Length > Backend.MaxItemSize)
        {
            throw new ItemTooLargeException(Name, body.Length, Backend.MaxItemSize);
        }
        return body;
    }

    /// <summary>The largest item, serialized, that the queue's transport carries, in bytes: 64 MiB on the local broker,
    /// Redis and RabbitMQ.</summary>
    public int MaxItemSize => Backend.MaxItemSize;

    private async ValueTask PutBodyAsync(ReadOnlyMemory<byte> body, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var put = Joinable
            ? Backend.Joinable.PutAsync(Name, body, Timeouts.From(timeout), cancellationToken)
            : Backend.PutAsync(Name, body, Timeouts.From(timeout), cancellationToken);
        if (!await put.ConfigureAwait(false))
        {
            throw new QueueFullException(Name, MaxSize);
        }
    }

    /// <summary>Python's <c>put(obj, block=True, timeout=None)</c>.</summary>
    public void Put(T item, bool block = true, TimeSpan? timeout = null) =>
        Sync.Run(PutAsync(item, Timeouts.From(block, timeout)));

    /// <summary>Python's <c>put_nowait(obj)</c>.</summary>
    public void PutNowait(T item) => Put(item, block: false);

    /// <summary>Takes the oldest item, waiting up to <paramref name="timeout"/> (null: without limit).</summary>
    /// <exception cref="QueueEmptyException">No item came within the timeout.</exception>
    public async ValueTask<T> GetAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var (item, delivery, sent) = await TakeAsync(timeout, cancellationToken).ConfigureAwait(false);
        OnTaken(delivery, sent);
        return item;
    }

    /// <summary>Takes the oldest item with its delivery (which says how often the item was delivered) and the trace
    /// context it was put with.</summary>
    private protected async ValueTask<(T Item, Delivery Delivery, RemoteContext? Sent)> TakeAsync(TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var start = Traced ? Telemetry.StartTime(Context) : default;
        var deadline = new Deadline(Timeouts.From(timeout), Context.Options.TimeProvider);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var delivery = (Joinable
                    ? await Backend.Joinable.TakeAsync(Name, deadline.Remaining, cancellationToken).ConfigureAwait(false)
                    : await Backend.GetAsync(Name, deadline.Remaining, cancellationToken).ConfigureAwait(false))
                ?? throw new QueueEmptyException(Name);
            if (delivery.Attempt > 1)
            {
                Telemetry.Count(Telemetry.Redelivered, Context, Name);
            }
            if (await ReadAsync(delivery, cancellationToken).ConfigureAwait(false) is (true, var item, var sent))
            {
                if (start != default)
                {
                    // The span begins when the get did, and its parent is the put's, so that the trace runs on.
                    using var activity = StartSpan(Telemetry.ReceiveOperation, "get", ActivityKind.Consumer, sent?.Context ?? default, start);
                    activity?.SetTag("broker.delivery.attempt", delivery.Attempt);
                }
                Count(Telemetry.Consumed);
                return (item, delivery, sent);
            }
        }
    }

    /// <summary>Takes from one to <paramref name="most"/> of the oldest items, waiting without limit for the first:
    /// for a reader that handles each item at once, such as a pool collecting its results.</summary>
    internal async ValueTask<List<T>> GetManyAsync(int most, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var items = new List<T>();
        while (items.Count == 0)
        {
            foreach (var delivery in await Backend.GetManyAsync(Name, most, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false))
            {
                if (await ReadAsync(delivery, cancellationToken).ConfigureAwait(false) is (true, var item, _))
                {
                    items.Add(item);
                }
            }
        }
        return items;
    }

    /// <summary>The item in <paramref name="delivery"/> and the trace context it was put with, or <c>false</c> when it
    /// could not be read and went to the dead letters.</summary>
    private async ValueTask<(bool Read, T Item, RemoteContext? Sent)> ReadAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        var problem = delivery.Unreadable;
        if (problem is null && TraceEnvelope.TryUnwrap(delivery.Body, out var json, out var sent, out problem))
        {
            try
            {
                return (true, Context.Serializer.Deserialize<T>(json.Span, $"an item of queue '{Name}'"), sent);
            }
            catch (BrokerSerializationException e)
            {
                problem = e.Message;
            }
        }
        await DeadLetterAsync(delivery, problem!, cancellationToken).ConfigureAwait(false);
        return (false, default!, default);
    }

    /// <summary>Runs <paramref name="operation"/> in a span of this queue's, marked failed if it throws; for callers that
    /// checked someone listens, as the closure is not free.</summary>
    private protected async ValueTask InSpanAsync(Func<ValueTask> operation, string type, string name, ActivityKind kind, ActivityContext parent = default)
    {
        using var activity = StartSpan(type, name, kind, parent);
        try
        {
            await operation().ConfigureAwait(false);
        }
        catch (Exception e) when (Telemetry.Failed(activity, e))
        {
            throw;
        }
    }

    /// <summary>Starts a span of this queue's, if it is traced and someone listens.</summary>
    private protected Activity? StartSpan(string type, string name, ActivityKind kind, ActivityContext parent = default, DateTimeOffset start = default) =>
        Traced ? Telemetry.Start(Context, Name, type, name, kind, parent, start) : null;

    private void Count(Counter<long> counter)
    {
        if (Traced)
        {
            Telemetry.Count(counter, Context, Name);
        }
    }

    /// <summary>Python's <c>get(block=True, timeout=None)</c>.</summary>
    public T Get(bool block = true, TimeSpan? timeout = null) => Sync.Run(GetAsync(Timeouts.From(block, timeout)));

    /// <summary>Python's <c>get_nowait()</c>.</summary>
    public T GetNowait() => Get(block: false);

    /// <summary>Takes items as they come, for ever or until <paramref name="cancellationToken"/> fires, as
    /// <c>ChannelReader.ReadAllAsync</c> does.</summary>
    public async IAsyncEnumerable<T> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            yield return await GetAsync(null, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The number of items waiting; approximate while others put and get, as in Python.</summary>
    public async ValueTask<long> CountAsync(CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        return await Backend.CountAsync(Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Python's <c>qsize()</c>.</summary>
    public long QSize() => Sync.Run(CountAsync());

    /// <summary>Python's <c>empty()</c>.</summary>
    public bool Empty() => QSize() == 0;

    /// <summary>Python's <c>full()</c>.</summary>
    public bool Full() => MaxSize > 0 && QSize() >= MaxSize;

    private protected virtual void OnTaken(Delivery delivery, RemoteContext? sent)
    {
    }

    private protected override Task CreateAsync(CancellationToken cancellationToken) =>
        Context.DeclareQueueAsync(Name, MaxSize);

    internal override HandleDescriptor Describe() => new(Kind, Name, MaxSize);

    internal static Queue<T> Attach(BrokerContext broker, HandleDescriptor descriptor) =>
        new(broker, descriptor.Name, descriptor.Size);

    private async ValueTask DeadLetterAsync(Delivery delivery, string reason, CancellationToken cancellationToken)
    {
        // Past the item limit: an item at the limit grows by a third as a dead letter, which the transports still carry.
        var deadLetter = new DeadLetter(Name, reason, delivery.Body.ToArray(), Context.Options.TimeProvider.GetUtcNow());
        await DeadLetters.PutBodyAsync(Context.Serializer.Serialize(deadLetter, $"a dead letter of queue '{Name}'"), null, cancellationToken).ConfigureAwait(false);
        Telemetry.Count(Telemetry.DeadLettered, Context, Name);
        if (Joinable)
        {
            await ((UnfinishedDelivery)delivery).DoneAsync(cancellationToken).ConfigureAwait(false);
        }
        Context.Logger.LogWarning("An item of queue {Queue} could not be read and went to {DeadLetters}: {Reason}", Name, Name + ".dead", reason);
    }
}

/// <summary>An item that could not be read, kept with the reason instead of being dropped.</summary>
/// <param name="Queue">The queue the item was taken from.</param>
/// <param name="Reason">Why it could not be read.</param>
/// <param name="Body">The item's bytes, as they were.</param>
/// <param name="At">When it was set aside.</param>
public sealed record DeadLetter(string Queue, string Reason, byte[] Body, DateTimeOffset At);

/// <summary>A queue whose consumers say when each item is done, like <c>multiprocessing.JoinableQueue</c>:
/// <see cref="Join"/> returns when every item put has been marked done. Unlike Python's, an item whose consumer
/// dies before <see cref="TaskDone"/> is delivered again, and <see cref="Join"/> waits for it.</summary>
public sealed class JoinableQueue<T> : Queue<T>
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<(UnfinishedDelivery Delivery, RemoteContext? Sent)> _taken = new();

    /// <inheritdoc cref="Queue{T}(int, string?, BrokerContext?)"/>
    public JoinableQueue(int maxsize = 0, string? name = null, BrokerContext? broker = null)
        : base(broker, name, maxsize)
    {
    }

    private protected override bool Joinable => true;

    /// <summary>Marks the oldest item this process took and has not marked yet as done.</summary>
    /// <exception cref="InvalidOperationException">Called more times than items were taken (Python's ValueError).</exception>
    public ValueTask TaskDoneAsync(CancellationToken cancellationToken = default)
    {
        if (!_taken.TryDequeue(out var taken))
        {
            throw new InvalidOperationException($"TaskDone() was called more times than items were taken from queue '{Name}' in this process.");
        }
        return Telemetry.Source.HasListeners()
            // The mark's span is the child of the put's.
            ? InSpanAsync(() => taken.Delivery.DoneAsync(cancellationToken), Telemetry.SettleOperation, "task_done", ActivityKind.Consumer, taken.Sent?.Context ?? default)
            : taken.Delivery.DoneAsync(cancellationToken);
    }

    /// <summary>Python's <c>task_done()</c>.</summary>
    public void TaskDone() => Sync.Run(TaskDoneAsync());

    /// <summary>Appends <paramref name="items"/> in their order, in one trip where the transport can, so that a consumer
    /// that takes the first finds the others in the queue already: the messages of a pool's large map.</summary>
    internal async ValueTask PutAllAsync(IReadOnlyList<T> items, CancellationToken cancellationToken)
    {
        var bodies = new ReadOnlyMemory<byte>[items.Count];
        var uncreated = new List<BrokerHandle>();
        for (var i = 0; i < bodies.Length; i++)
        {
            bodies[i] = Write(items[i], out var named);
            uncreated.AddRange(named);
        }
        await HandlesWritten.CreateAsync(uncreated, cancellationToken).ConfigureAwait(false);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        await Backend.Joinable.PutAllAsync(Name, bodies, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Takes an item that the caller marks done itself with <see cref="UnfinishedDelivery.DoneAsync"/>, in any order:
    /// <see cref="TaskDoneAsync"/> does not count it. Its delivery says how often it was delivered.</summary>
    internal async ValueTask<(T Item, UnfinishedDelivery Delivery)> TakeOwnAsync(CancellationToken cancellationToken = default)
    {
        var (item, delivery, _) = await TakeAsync(null, cancellationToken).ConfigureAwait(false);
        return (item, (UnfinishedDelivery)delivery);
    }

    /// <summary>Waits until every item put, by any process, has been marked done; false if
    /// <paramref name="timeout"/> passed first.</summary>
    public async ValueTask<bool> JoinAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        return await Backend.Joinable.JoinAsync(Name, Timeouts.From(timeout), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Python's <c>join()</c>, with an optional timeout; false if it passed first.</summary>
    public bool Join(TimeSpan? timeout = null) => Sync.Run(JoinAsync(timeout));

    // A joinable queue takes from Backend.Joinable, whose deliveries are unfinished until done.
    private protected override void OnTaken(Delivery delivery, RemoteContext? sent) => _taken.Enqueue(((UnfinishedDelivery)delivery, sent));

    internal static new JoinableQueue<T> Attach(BrokerContext broker, HandleDescriptor descriptor) =>
        new(descriptor.Size, descriptor.Name, broker);
}
