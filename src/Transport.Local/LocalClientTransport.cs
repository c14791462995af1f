using System.Collections.Concurrent;
using System.Net.Sockets;
using Broker.Transport;
using Microsoft.Extensions.Logging;

namespace Broker.Transport.Local;

/// <summary>A child's connection to the broker its parent hosts, at <c>local:///path/to/broker.sock</c>. One socket
/// carries every queue operation; blocking ones wait on the broker, not here. Locks and values are in the memory the
/// broker shares from the socket's directory, and the socket only hands out their slots.</summary>
internal sealed class LocalClientTransport : ITransport, IQueueBackend, IJoinableQueueBackend, ILocalAcknowledger, ISlotDirectory
{
    /// <summary>How many items one get may prefetch for the next, when more wait and no other client waits.</summary>
    private const int MostPrefetched = 128;
    private readonly BrokerUrl _url;
    private readonly ILogger _logger;
    private readonly string _path;
    private readonly SlotMemory _memory;
    private readonly SharedSlots _slots;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<byte[]>> _pending = new();
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private FrameConnection? _connection;
    private Task? _reading;
    private Exception? _broken;
    private int _lastId;

    // The items prefetched, by queue and acknowledgement, under _prefetchedGate. No frame is sent under that lock: the read
    // loop takes it, and a read loop that waited for room to send could stall the broker, which may be waiting for it.
    private readonly Dictionary<(string Queue, bool Acknowledge), System.Collections.Generic.Queue<LocalDelivery>> _prefetched = [];

    // Plain prefetched items that this client's code took, by queue, not yet reported: the next get or count of their
    // queue, the answer to a recall, or the end of the connection reports them. Should this process die first, the broker
    // delivers them again: at least once, as for any consumer that dies mid-task.
    private readonly Dictionary<string, List<long>> _takenPrefetched = new(StringComparer.Ordinal);
    private readonly System.Threading.Lock _prefetchedGate = new();

    // The queues this client declared unbounded, where a plain put needs no answer (see PutAsync).
    private readonly ConcurrentDictionary<string, byte> _unbounded = new(StringComparer.Ordinal);

    public LocalClientTransport(BrokerUrl url, string path, ILogger logger, TimeProvider time)
    {
        _url = url;
        _logger = logger;
        _path = path;
        var directory = Path.GetDirectoryName(_path)!;
        _memory = new SlotMemory(() => directory, create: false);
        _slots = new SharedSlots(_memory, this, time);
    }

    public string DisplayUrl => _url.Display;

    public IQueueBackend Queues => this;

    public ILockBackend Locks => _slots;

    public IValueBackend Values => _slots;

    public IMapBackend Maps => field ??= new CollectionCalls.Maps((request, ct) => CallEncodedAsync(Op.Collection, request, ct));

    public IListBackend Lists => field ??= new CollectionCalls.Lists((request, ct) => CallEncodedAsync(Op.Collection, request, ct));

    public IQueueInspection Inspection => field ??= new InspectionCalls.Queues(InspectAsync);

    public ValueTask<byte[]> InspectAsync(byte[] request, CancellationToken cancellationToken) => CallEncodedAsync(Op.Inspect, request, cancellationToken);

    /// <summary>Sends a request in the <see cref="CollectionCalls"/> encoding, for the host to run, and returns its result.</summary>
    private async ValueTask<byte[]> CallEncodedAsync(Op op, byte[] request, CancellationToken cancellationToken) =>
        new FrameReader(await CallAsync(op, request, static (ref w, r) => w.Bytes(r), cancellationToken).ConfigureAwait(false)).Bytes().ToArray();

    public ValueTask<string> ShareAsync(CancellationToken cancellationToken) => new(_url.Original);

    /// <summary>A flush, answered once the broker has read what this client sent before.</summary>
    public async ValueTask PingAsync(CancellationToken cancellationToken) =>
        await CallAsync(Op.Flush, 0, static (ref _, _) => { }, cancellationToken).ConfigureAwait(false);

    public int MaxItemSize => Wire.MaxItem;

    public async ValueTask DeclareAsync(string queue, int maxSize, CancellationToken cancellationToken)
    {
        await CallAsync(Op.Declare, (queue, maxSize), static (ref w, s) =>
        {
            w.String(s.queue);
            w.Int32(s.maxSize);
        }, cancellationToken).ConfigureAwait(false);
        if (maxSize == 0)
        {
            _unbounded.TryAdd(queue, 0);
        }
    }

    /// <summary>A plain item on a queue this client declared unbounded cannot be refused and never waits for room, so
    /// it is sent without waiting for an answer: the broker reads it before anything this client sends later, and
    /// before it sees the connection end, even if this process dies at once. As with Python's <c>put</c>, which
    /// returns before its feeder thread writes the item, another process may not see it for a moment. A joinable
    /// item waits for the broker, so that <c>Join</c> anywhere counts it once <c>Put</c> returns.</summary>
    public IJoinableQueueBackend Joinable => this;

    public ValueTask<bool> PutAsync(string queue, ReadOnlyMemory<byte> body, TimeSpan timeout, CancellationToken cancellationToken) =>
        PutAsync(queue, body, joinable: false, timeout, cancellationToken);

    ValueTask<bool> IJoinableQueueBackend.PutAsync(string queue, ReadOnlyMemory<byte> body, TimeSpan timeout, CancellationToken cancellationToken) =>
        PutAsync(queue, body, joinable: true, timeout, cancellationToken);

    private async ValueTask<bool> PutAsync(string queue, ReadOnlyMemory<byte> body, bool joinable, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!joinable && _unbounded.ContainsKey(queue))
        {
            SendUnanswered(Op.Put, (queue, body, timeout), WritePut);
            return true;
        }
        var result = await CallAsync(Op.Put, (queue, body, timeout), WritePut, cancellationToken).ConfigureAwait(false);
        return result[0] == 1;
    }

    /// <summary>Starts the joinable puts one after another without waiting between them (each sends its frame before
    /// it waits for the answer), so that the broker reads them together.</summary>
    async ValueTask IJoinableQueueBackend.PutAllAsync(string queue, IReadOnlyList<ReadOnlyMemory<byte>> bodies, CancellationToken cancellationToken)
    {
        var puts = new Task<bool>[bodies.Count];
        for (var i = 0; i < puts.Length; i++)
        {
            puts[i] = PutAsync(queue, bodies[i], joinable: true, Timeout.InfiniteTimeSpan, cancellationToken).AsTask();
        }
        await Task.WhenAll(puts).ConfigureAwait(false);
    }

    private static void WritePut(ref FrameWriter writer, (string Queue, ReadOnlyMemory<byte> Body, TimeSpan Timeout) put)
    {
        writer.String(put.Queue);
        writer.Timeout(put.Timeout);
        writer.Bytes(put.Body.Span);
    }

    /// <summary>Takes an item this client prefetched, telling the broker without waiting for an answer, or
    /// asks the broker, which may prefetch more (see <see cref="LocalSession.GetAsync(string, bool, TimeSpan, int, CancellationToken)"/>).</summary>
    public ValueTask<Delivery?> GetAsync(string queue, TimeSpan timeout, CancellationToken cancellationToken) =>
        GetAsync(queue, acknowledge: false, timeout, cancellationToken);

    public async ValueTask<UnfinishedDelivery?> TakeAsync(string queue, TimeSpan timeout, CancellationToken cancellationToken) =>
        (LocalDelivery?)await GetAsync(queue, acknowledge: true, timeout, cancellationToken).ConfigureAwait(false);

    private ValueTask<Delivery?> GetAsync(string queue, bool acknowledge, TimeSpan timeout, CancellationToken cancellationToken)
    {
        LocalDelivery? item;
        lock (_prefetchedGate)
        {
            if (!_prefetched.TryGetValue((queue, acknowledge), out var items) || !items.TryDequeue(out item))
            {
                return FetchAsync(queue, acknowledge, timeout, cancellationToken);
            }
            if (!acknowledge)
            {
                if (_takenPrefetched.TryGetValue(queue, out var taken))
                {
                    taken.Add(item.Id);
                }
                else
                {
                    _takenPrefetched[queue] = [item.Id];
                }
                return new(item);
            }
        }
        // Reported before the item's code runs: should that code kill this process, it was an attempt. Sent outside the
        // lock, which the read loop takes: a send that waits for room must never stop the read loop.
        SendUnanswered(Op.Consumed, (long[])[item.Id], static (ref w, ids) => w.Int64s(ids));
        return new(item);
    }

    private async ValueTask<Delivery?> FetchAsync(string queue, bool acknowledge, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var result = await CallAsync(Op.Get, (queue, acknowledge, timeout, taken: TakenPrefetched(queue)), static (ref w, s) =>
        {
            w.String(s.queue);
            w.Byte(s.acknowledge ? (byte)1 : (byte)0);
            w.Timeout(s.timeout);
            w.Int32(MostPrefetched);
            w.Int64s(s.taken);
        }, cancellationToken).ConfigureAwait(false);
        var reader = new FrameReader(result);
        if (reader.Byte() == 0)
        {
            return null;
        }
        var id = reader.Int64();
        var attempt = reader.Int32();
        const int bodyStart = 1 + 8 + 4 + 4;
        return new LocalDelivery(queue, result.AsMemory(bodyStart), id, attempt, acknowledge ? this : null);
    }

    /// <summary>Takes the unreported items of <paramref name="queue"/> this client's code took, for a request to report.</summary>
    private IReadOnlyCollection<long> TakenPrefetched(string queue)
    {
        lock (_prefetchedGate)
        {
            return _takenPrefetched.Remove(queue, out var taken) ? taken : [];
        }
    }

    /// <summary>Sends the acknowledgement without waiting for an answer: the broker cannot refuse an item this client
    /// took, and a frame sent before this process ends still reaches the broker, which reads it before it sees the
    /// connection close. Later requests on the socket come after it. It goes with the next frame, a consumer's next
    /// get most often, or on its own as soon as the thread pool runs its flush.</summary>
    public ValueTask AckAsync(long deliveryId)
    {
        SendUnanswered(Op.Ack, deliveryId, static (ref w, id) => w.Int64(id), soon: true);
        return default;
    }

    /// <summary>Reports the items of <paramref name="queue"/> this client's code took first, so that it counts none of
    /// them as waiting.</summary>
    public async ValueTask<long> CountAsync(string queue, CancellationToken cancellationToken) =>
        new FrameReader(await CallAsync(Op.Count, (queue, taken: TakenPrefetched(queue)), static (ref w, s) =>
        {
            w.String(s.queue);
            w.Int64s(s.taken);
        }, cancellationToken).ConfigureAwait(false)).Int64();

    public async ValueTask<bool> JoinAsync(string queue, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var result = await CallAsync(Op.Join, (queue, timeout), static (ref w, s) =>
        {
            w.String(s.queue);
            w.Timeout(s.timeout);
        }, cancellationToken).ConfigureAwait(false);
        return result[0] == 1;
    }

    public async ValueTask<SlotGrant> SlotAsync(string name, SlotUse use, Scalar initial, CancellationToken cancellationToken)
    {
        var result = await CallAsync(Op.Slot, (name, use, initial), static (ref w, s) =>
        {
            w.String(s.name);
            w.Byte((byte)s.use);
            w.Scalar(s.initial);
        }, cancellationToken).ConfigureAwait(false);
        var reader = new FrameReader(result);
        return new SlotGrant(reader.Int32(), (ScalarKind)reader.Byte(), reader.Int32());
    }

    public async ValueTask<bool> WatchAsync(int index, long seen, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var result = await CallAsync(Op.Watch, (index, seen, timeout), static (ref w, s) =>
        {
            w.Int32(s.index);
            w.Int64(s.seen);
            w.Timeout(s.timeout);
        }, cancellationToken).ConfigureAwait(false);
        return result[0] == 1;
    }

    /// <summary>Sent without waiting for an answer, and at once: a waiter in another process looks again as soon as
    /// the broker reads it, and this client's later requests come after it.</summary>
    public ValueTask NotifyAsync(int index, CancellationToken cancellationToken)
    {
        SendUnanswered(Op.Notify, index, static (ref w, i) => w.Int32(i), soon: false);
        return default;
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is { } connection)
        {
            try
            {
                long[] taken;
                lock (_prefetchedGate)
                {
                    taken = [.. _takenPrefetched.Values.SelectMany(ids => ids)];
                    _takenPrefetched.Clear();
                }
                if (taken.Length > 0)
                {
                    SendUnanswered(Op.Consumed, taken, static (ref w, ids) => w.Int64s(ids));
                }
                // The answer comes once the broker has read everything sent before: the last unanswered puts are in
                // their queues, and what this client took is reported, before this client (often its process) ends.
                await CallAsync(Op.Flush, 0, static (ref _, _) => { }, CancellationToken.None).ConfigureAwait(false);
            }
            catch (BrokerUnavailableException e)
            {
                // The broker is gone, and with it every queue.
                _logger.LogDebug("Closing a connection to the local broker that had already ended: {Reason}", e.Message);
            }
            await connection.DisposeAsync().ConfigureAwait(false);
            await _reading!.ConfigureAwait(false);
        }
        _memory.Dispose();
        _connecting.Dispose();
    }

    /// <summary>Sends one request and waits for its response; <paramref name="cancellationToken"/> asks the broker to
    /// end the wait, and the call still returns the broker's answer, so an item the broker handed out is not lost.</summary>
    private async ValueTask<byte[]> CallAsync<TState>(Op op, TState state, Encoder<TState> write, CancellationToken cancellationToken)
    {
        var connection = _connection ?? await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var id = Interlocked.Increment(ref _lastId);
        if (id == Wire.Unanswered)
        {
            id = Interlocked.Increment(ref _lastId);
        }
        var response = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = response;
        if (_broken is { } broken)
        {
            _pending.TryRemove(id, out _);
            throw Unavailable(broken);
        }
        var frame = new FrameWriter(id, (byte)op);
        write(ref frame, state);
        connection.Send(frame.Finish());
        using var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static (s, _) =>
            {
                var (connection, id) = ((FrameConnection, int))s!;
                connection.Send(new FrameWriter(id, (byte)Op.Cancel).Finish());
            }, (connection, id))
            : default;
        return await response.Task.ConfigureAwait(false);
    }

    private async ValueTask<FrameConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        await _connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_connection is { } connected)
            {
                return connected;
            }
            if (_broken is { } broken)
            {
                throw Unavailable(broken);
            }
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                // Synchronously, as a local connect does not wait: see FrameConnection's socket.
                cancellationToken.ThrowIfCancellationRequested();
                socket.Connect(new UnixDomainSocketEndPoint(_path));
            }
            catch (SocketException e)
            {
                socket.Dispose();
                throw new BrokerUnavailableException(
                    $"Cannot reach the local broker at {_url.Display} ({e.SocketErrorCode}): the process that hosts it has ended, " +
                    "or this URL was not given by it.", e);
            }
            var connection = new FrameConnection(socket);
            _reading = ReadLoopAsync(connection);
            return _connection = connection;
        }
        finally
        {
            _connecting.Release();
        }
    }

    private async Task ReadLoopAsync(FrameConnection connection)
    {
        Exception ended = new IOException("the broker closed the connection");
        try
        {
            await connection.StartReading(OnResponse, "Broker local client").ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidDataException)
        {
            ended = e;
        }
        _broken = ended;
        _logger.LogDebug("The connection to the local broker at {Url} ended: {Reason}", _url.Display, ended.Message);
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var pending))
            {
                pending.TrySetException(Unavailable(ended));
            }
        }
    }

    private void SendUnanswered<TState>(Op op, TState state, Encoder<TState> write, bool soon = false)
    {
        if (_broken is { } broken || _connection is not { } connection)
        {
            throw Unavailable(_broken ?? new InvalidOperationException("not connected"));
        }
        var frame = new FrameWriter(Wire.Unanswered, (byte)op);
        write(ref frame, state);
        if (soon)
        {
            connection.SendSoon(frame.Finish());
        }
        else
        {
            connection.Send(frame.Finish());
        }
    }

    /// <summary>Keeps the items the broker prefetches for this client, and gives back those not taken when it recalls them. On the
    /// read loop, so a prefetched item is kept before any later recall is read.</summary>
    private void OnPush(Status push, ReadOnlySpan<byte> payload)
    {
        var reader = new FrameReader(payload);
        var queue = reader.String();
        lock (_prefetchedGate)
        {
            switch (push)
            {
                case Status.Prefetched:
                {
                    var acknowledge = reader.Byte() == 1;
                    if (!_prefetched.TryGetValue((queue, acknowledge), out var items))
                    {
                        _prefetched[(queue, acknowledge)] = items = new();
                    }
                    for (var count = reader.Int32(); count > 0; count--)
                    {
                        var id = reader.Int64();
                        var attempt = reader.Int32();
                        items.Enqueue(new LocalDelivery(queue, reader.Bytes().ToArray(), id, attempt, acknowledge ? this : null));
                    }
                    break;
                }
                case Status.Recall:
                {
                    var ids = new List<long>();
                    foreach (var acknowledge in (ReadOnlySpan<bool>)[false, true])
                    {
                        if (_prefetched.Remove((queue, acknowledge), out var items))
                        {
                            ids.AddRange(items.Select(item => item.Id));
                        }
                    }
                    ids.Sort();
                    // The answer also reports what this client's code took and had not reported yet.
                    var taken = _takenPrefetched.Remove(queue, out var list) ? list : [];
                    // Sent from elsewhere, as no frame is sent from the read loop. The answer's items left the buffers
                    // here, so no other frame can be about them, and the order of the two does not matter.
                    ThreadPool.UnsafeQueueUserWorkItem(static answer => answer.Client.SendGaveBack(answer.Queue, answer.Ids, answer.Taken),
                        (Client: this, Queue: queue, Ids: ids, Taken: taken), preferLocal: false);
                    break;
                }
                default:
                    throw new InvalidDataException($"Status {push} is not a push of the local broker.");
            }
        }
    }

    private void SendGaveBack(string queue, List<long> ids, List<long> taken)
    {
        try
        {
            SendUnanswered(Op.GaveBack, (queue, ids, taken), static (ref w, s) =>
            {
                w.String(s.queue);
                w.Int64s(s.ids);
                w.Int64s(s.taken);
            });
        }
        catch (BrokerUnavailableException)
        {
            // The connection ended: the broker takes back all this client held.
        }
    }

    private void OnResponse(int id, byte status, ReadOnlySpan<byte> payload)
    {
        if (id == Wire.Unanswered)
        {
            OnPush((Status)status, payload);
            return;
        }
        if (!_pending.TryRemove(id, out var pending))
        {
            return;
        }
        switch ((Status)status)
        {
            case Status.Ok:
                pending.TrySetResult(payload.ToArray());
                break;
            case Status.Cancelled:
                pending.TrySetCanceled();
                break;
            default:
                var reader = new FrameReader(payload);
                var failure = (Failure)reader.Byte();
                var message = reader.String();
                pending.TrySetException(failure switch
                {
                    Failure.InvalidOperation => new InvalidOperationException(message),
                    Failure.Argument => new ArgumentException(message),
                    Failure.Unavailable => new BrokerUnavailableException(message),
                    Failure.MaxSizeConflict => new QueueMaxSizeConflictException(reader.String(), reader.Int32(), message),
                    _ => new BrokerException(message),
                });
                break;
        }
    }

    private BrokerUnavailableException Unavailable(Exception reason) =>
        new($"Lost the connection to the local broker at {_url.Display}: {reason.Message}. The process that hosts it has ended.", reason);
}
