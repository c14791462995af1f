using System.Diagnostics;
using Broker.Diagnostics;
using Broker.Serialization;
using Broker.Transport;
using Microsoft.Extensions.Logging;

namespace Broker;

/// <summary>One end of a <see cref="Pipe"/>, like Python's <c>multiprocessing.connection.Connection</c>: messages
/// sent at one end arrive at the other in order, as objects (<see cref="Send{T}"/>, JSON as queue items are) or as
/// bytes (<see cref="SendBytes"/>).</summary>
/// <remarks>
/// <para>Each direction is a queue on the broker. The process that first uses an end, or that is started with it as
/// an argument, holds a lock for it. Better than Python: when that process dies, <see cref="Recv{T}"/> and
/// <see cref="PollAsync(TimeSpan?, CancellationToken)"/> at the other end report the end of the pipe instead of waiting for ever, within
/// <see cref="DeadEndLook"/> of its lock being freed (at once on the local broker, at lease end on Redis).</para>
/// <para>A message is at most <see cref="MaxMessageSize"/> bytes as sent; a larger one is refused at
/// <see cref="Send{T}"/> with <see cref="ItemTooLargeException"/>.</para>
/// </remarks>
public sealed class Connection : BrokerHandle, IAsyncDisposable, IDisposable
{
    /// <summary>How often a waiting receive looks for an end whose process died, which no message announces.</summary>
    public static readonly TimeSpan DeadEndLook = TimeSpan.FromMilliseconds(250);

    private const string DuplexKind = "connection";
    private const string SimplexKind = "simplexconnection";

    // Each message starts with what it is: bytes (an object's JSON, or bytes sent as such), the end of the pipe, or
    // bytes with the W3C trace context of their send in front (TraceEnvelope), which a receive takes off.
    private const byte DataFrame = 0;
    private const byte EndFrame = 1;
    private const byte TracedFrame = 2;

    // What an end's state holds: not yet used, held by a process, closed, or given to a child that ended before it
    // took the end.
    private const long UnclaimedEnd = 0;
    private const long ClaimedEnd = 1;
    private const long ClosedEnd = 2;
    private const long AbandonedEnd = 3;

    private readonly SemaphoreSlim _receiving = new(1, 1);
    private readonly Lazy<Task> _claim;
    private LockOwner? _presence;
    private byte[]? _pending;
    private RemoteContext? _pendingSent;
    private bool _ended;
    private int _closed;
    private long _otherSeenAt;

    // Every handle declares the pipe's queues, where it arrives too: a client that declared a queue unbounded sends
    // to it without waiting for an answer.
    internal Connection(BrokerContext context, string pipe, int end, bool duplex)
        : base(context, pipe, duplex ? DuplexKind : SimplexKind, create: true)
    {
        End = end;
        Duplex = duplex;
        _claim = new(() => ClaimAsync());
    }

    /// <summary>Which end of the pipe this is: 0 or 1.</summary>
    public int End { get; }

    /// <summary>Whether both ends send and receive.</summary>
    public bool Duplex { get; }

    /// <summary>Whether this end receives, Python's <c>readable</c>.</summary>
    public bool Readable => Duplex || End == 0;

    /// <summary>Whether this end sends, Python's <c>writable</c>.</summary>
    public bool Writable => Duplex || End == 1;

    /// <summary>Whether this end was closed here, Python's <c>closed</c>.</summary>
    public bool Closed => Volatile.Read(ref _closed) == 1;

    /// <summary>The largest message, in bytes as sent: the transport's largest item, less the message's one-byte header
    /// and room for the trace context it may carry.</summary>
    public int MaxMessageSize => Context.Queues.MaxItemSize - 1 - TraceEnvelope.MostHeaderBytes;

    private int Other => 1 - End;
    private string Incoming => QueueTo(End);
    private string Outgoing => QueueTo(Other);
    private string QueueTo(int end) => $"{Name}:to-{end}";
    private string Presence(int end) => $"{Name}:end-{end}";
    private string State(int end) => $"{Name}:end-{end}:state";

    /// <summary>Sends <paramref name="obj"/>, Python's <c>send(obj)</c>.</summary>
    /// <exception cref="BrokerSerializationException">It cannot be serialized.</exception>
    /// <exception cref="ItemTooLargeException">It is larger than <see cref="MaxMessageSize"/> serialized.</exception>
    /// <exception cref="IOException">The other end is closed, or its process died (Python's <c>BrokenPipeError</c>).</exception>
    public async ValueTask SendAsync<T>(T obj, CancellationToken cancellationToken = default)
    {
        var json = HandlesWritten.Write(static s => s.Connection.Context.Serializer.Serialize(s.obj, $"a message of pipe '{s.Connection.Name}'"),
            (Connection: this, obj), out var uncreated);
        await HandlesWritten.CreateAsync(uncreated, cancellationToken).ConfigureAwait(false);
        await SendFrameAsync(json, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends <paramref name="size"/> bytes of <paramref name="buffer"/> from <paramref name="offset"/> (all
    /// that follow by default) as one message, Python's <c>send_bytes(buffer, offset, size)</c>.</summary>
    /// <inheritdoc cref="SendAsync{T}" path="/exception"/>
    public ValueTask SendBytesAsync(byte[] buffer, int offset = 0, int? size = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, buffer.Length);
        var length = size ?? buffer.Length - offset;
        ArgumentOutOfRangeException.ThrowIfNegative(length, nameof(size));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, buffer.Length - offset, nameof(size));
        return SendFrameAsync(buffer.AsSpan(offset, length).ToArray(), cancellationToken);
    }

    /// <summary>Receives the next message as <typeparamref name="T"/>, waiting for it, Python's <c>recv()</c>.</summary>
    /// <exception cref="EndOfStreamException">The other end closed, or its process died, and nothing is left to
    /// receive (Python's <c>EOFError</c>).</exception>
    /// <exception cref="BrokerSerializationException">The message is not the JSON of a <typeparamref name="T"/>
    /// (bytes sent with <see cref="SendBytes"/> are read as JSON too, as Python unpickles them); it stays next, for
    /// <see cref="RecvBytesAsync"/>.</exception>
    public async ValueTask<T> RecvAsync<T>(CancellationToken cancellationToken = default)
    {
        var start = Telemetry.StartTime(Context);
        var frame = await NextAsync(cancellationToken).ConfigureAwait(false);
        var value = Context.Serializer.Deserialize<T>(frame.AsSpan(1), $"a message of pipe '{Name}'");
        Took(start);
        return value;
    }

    /// <summary>Receives the next message as bytes (an object's as its JSON), Python's <c>recv_bytes(maxlength)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The message is longer than <paramref name="maxLength"/>; it stays next.</exception>
    /// <inheritdoc cref="RecvAsync{T}" path="/exception[1]"/>
    public async ValueTask<byte[]> RecvBytesAsync(int? maxLength = null, CancellationToken cancellationToken = default)
    {
        var start = Telemetry.StartTime(Context);
        var frame = await NextAsync(cancellationToken).ConfigureAwait(false);
        if (frame.Length - 1 > maxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, $"The next message of pipe '{Name}' has {frame.Length - 1} bytes; it stays next.");
        }
        Took(start);
        return frame[1..];
    }

    /// <summary>Receives the next message into <paramref name="buffer"/> from <paramref name="offset"/>, Python's
    /// <c>recv_bytes_into(buffer, offset)</c>: returns its length.</summary>
    /// <exception cref="ArgumentException">The message does not fit (Python's <c>BufferTooShort</c>); it stays next.</exception>
    /// <inheritdoc cref="RecvAsync{T}" path="/exception[1]"/>
    public async ValueTask<int> RecvBytesIntoAsync(byte[] buffer, int offset = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, buffer.Length);
        var start = Telemetry.StartTime(Context);
        var frame = await NextAsync(cancellationToken).ConfigureAwait(false);
        var length = frame.Length - 1;
        if (length > buffer.Length - offset)
        {
            throw new ArgumentException($"The next message of pipe '{Name}' has {length} bytes, more than the {buffer.Length - offset} from offset {offset}; it stays next.", nameof(buffer));
        }
        frame.AsSpan(1).CopyTo(buffer.AsSpan(offset));
        Took(start);
        return length;
    }

    /// <summary>Whether a message (or the end of the pipe) is there to receive, waiting up to
    /// <paramref name="timeout"/> (null: without limit), Python's <c>poll(timeout)</c>.</summary>
    public async ValueTask<bool> PollAsync(TimeSpan? timeout, CancellationToken cancellationToken = default) =>
        await TryNextAsync(Timeouts.From(timeout), cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>Whether a message (or the end of the pipe) is there to receive now, Python's <c>poll()</c>.</summary>
    public ValueTask<bool> PollAsync(CancellationToken cancellationToken = default) => PollAsync(TimeSpan.Zero, cancellationToken);

    /// <summary>Closes this end, Python's <c>close()</c>: the other end receives what was sent before, then the end
    /// of the pipe.</summary>
    public async ValueTask CloseAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _closed, 1) == 1)
        {
            return;
        }
        await _claim.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (Writable)
        {
            await Context.Queues.PutAsync(Outgoing, new[] { EndFrame }, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        }
        await Context.Values.SetAsync(State(End), Scalar.FromInteger(ClosedEnd), cancellationToken).ConfigureAwait(false);
        if (_presence is { } presence)
        {
            await Context.Locks.ReleaseAsync(Presence(End), presence, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Python's <c>send(obj)</c>.</summary>
    public void Send<T>(T obj) => Sync.Run(SendAsync(obj));

    /// <summary>Python's <c>send_bytes(buffer, offset, size)</c>.</summary>
    public void SendBytes(byte[] buffer, int offset = 0, int? size = null) => Sync.Run(SendBytesAsync(buffer, offset, size));

    /// <summary>Python's <c>recv()</c>.</summary>
    public T Recv<T>() => Sync.Run(RecvAsync<T>());

    /// <summary>Python's <c>recv_bytes(maxlength)</c>.</summary>
    public byte[] RecvBytes(int? maxLength = null) => Sync.Run(RecvBytesAsync(maxLength));

    /// <summary>Python's <c>recv_bytes_into(buffer, offset)</c>.</summary>
    public int RecvBytesInto(byte[] buffer, int offset = 0) => Sync.Run(RecvBytesIntoAsync(buffer, offset));

    /// <summary>Python's <c>poll(timeout)</c>: null waits without limit.</summary>
    public bool Poll(TimeSpan? timeout) => Sync.Run(PollAsync(timeout));

    /// <summary>Python's <c>poll()</c>, which does not wait.</summary>
    public bool Poll() => Sync.Run(PollAsync(TimeSpan.Zero));

    /// <summary>Python's <c>close()</c>.</summary>
    public void Close() => Sync.Run(CloseAsync());

    /// <summary>Closes this end.</summary>
    public ValueTask DisposeAsync() => CloseAsync();

    /// <summary>Closes this end, as leaving Python's <c>with conn:</c> does.</summary>
    public void Dispose() => Close();

    /// <summary>Takes <paramref name="argument"/> for this process if it is a pipe end: a child started with one, or a
    /// pool task given one, does so as it starts, so that the process's death shows at the other end even before it
    /// used it.</summary>
    internal static T ClaimedIfEnd<T>(T argument)
    {
        if (argument is Connection connection)
        {
            Sync.Run(new ValueTask(connection._claim.Value));
        }
        return argument;
    }

    private protected override async Task CreateAsync(CancellationToken cancellationToken)
    {
        await Context.Queues.DeclareAsync(QueueTo(0), 0, cancellationToken).ConfigureAwait(false);
        if (Duplex)
        {
            await Context.Queues.DeclareAsync(QueueTo(1), 0, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Called by the parent once a child it gave this end to has ended: an end the child never took (it died
    /// as it started) is then gone for the other end too, which would otherwise wait for a holder that never comes.</summary>
    internal async Task AbandonIfUnclaimedAsync() =>
        await Context.Values.CompareExchangeAsync(State(End), Scalar.FromInteger(AbandonedEnd), Scalar.FromInteger(UnclaimedEnd), CancellationToken.None)
            .ConfigureAwait(false);

    private async Task ClaimAsync()
    {
        await EnsureCreatedAsync(CancellationToken.None).ConfigureAwait(false);
        var owner = LockOwner.New();
        // Another process that used this end first keeps it; this one sends and receives all the same.
        if (await Context.Locks.AcquireAsync(Presence(End), owner, TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false) is not null)
        {
            _presence = owner;
            await Context.Values.CompareExchangeAsync(State(End), Scalar.FromInteger(ClaimedEnd), Scalar.FromInteger(UnclaimedEnd), CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async ValueTask SendFrameAsync(byte[] payload, CancellationToken cancellationToken)
    {
        ThrowIfUnusable(Writable, "send on");
        if (payload.Length > MaxMessageSize)
        {
            throw new ItemTooLargeException(Outgoing, payload.Length, MaxMessageSize);
        }
        await _claim.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        // Looked at once a DeadEndLook, not at every message: a send costs one trip to the broker.
        var time = Context.Options.TimeProvider;
        if (time.GetElapsedTime(Volatile.Read(ref _otherSeenAt)) >= DeadEndLook)
        {
            if (await OtherEndGoneAsync(cancellationToken).ConfigureAwait(false) is { } gone)
            {
                throw new IOException($"Pipe '{Name}' is broken: {gone}.");
            }
            Volatile.Write(ref _otherSeenAt, time.GetTimestamp());
        }
        if (!Telemetry.Source.HasListeners())
        {
            await Context.Queues.PutAsync(Outgoing, Frame(payload), Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
            return;
        }
        using var activity = Telemetry.Start(Context, Name, Telemetry.SendOperation, "send", ActivityKind.Producer);
        try
        {
            await Context.Queues.PutAsync(Outgoing, Frame(payload), Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (Telemetry.Failed(activity, e))
        {
            throw;
        }
    }

    /// <summary>The message of <paramref name="payload"/>, with the current trace context in front while there is one.</summary>
    private static byte[] Frame(byte[] payload)
    {
        var wrapped = TraceEnvelope.Wrap(payload, Activity.Current);
        var frame = new byte[wrapped.Length + 1];
        frame[0] = ReferenceEquals(wrapped, payload) ? DataFrame : TracedFrame;
        wrapped.CopyTo(frame, 1);
        return frame;
    }

    /// <summary>The pending message was received: its span, whose parent is its send's, ends the trace's hop.</summary>
    private void Took(DateTimeOffset start)
    {
        _pending = null;
        if (start != default)
        {
            Telemetry.Start(Context, Name, Telemetry.ReceiveOperation, "recv", ActivityKind.Consumer, _pendingSent?.Context ?? default, start)?.Dispose();
        }
        _pendingSent = null;
    }

    private async ValueTask<byte[]> NextAsync(CancellationToken cancellationToken) =>
        await TryNextAsync(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false) is [not EndFrame, ..] frame
            ? frame
            : throw new EndOfStreamException($"Pipe '{Name}' has ended: its other end closed or its process died, and nothing is left to receive.");

    /// <summary>The next message, kept as pending until a receive takes it; the end frame once the other end is gone
    /// and nothing is left; null if nothing came within <paramref name="timeout"/>.</summary>
    private async ValueTask<byte[]?> TryNextAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        ThrowIfUnusable(Readable, "receive on");
        await _claim.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        await _receiving.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_pending is { } pending)
            {
                return pending;
            }
            if (_ended)
            {
                return [EndFrame];
            }
            var deadline = new Deadline(timeout, Context.Options.TimeProvider);
            // The other end is looked at only when a wait comes back empty: a receive costs one trip to the broker.
            var wait = deadline.Pause(DeadEndLook);
            while (true)
            {
                if (await Context.Queues.GetAsync(Incoming, wait, cancellationToken).ConfigureAwait(false) is { } delivery)
                {
                    return Keep(delivery.Body.ToArray());
                }
                if (await OtherEndGoneAsync(cancellationToken).ConfigureAwait(false) is not null)
                {
                    // What the other end sent before it went is in the queue by now.
                    return Keep(await Context.Queues.GetAsync(Incoming, TimeSpan.Zero, cancellationToken).ConfigureAwait(false) is { } last
                        ? last.Body.ToArray()
                        : [EndFrame]);
                }
                wait = deadline.Pause(DeadEndLook);
                if (wait == TimeSpan.Zero)
                {
                    return null;
                }
            }
        }
        finally
        {
            _receiving.Release();
        }
    }

    private byte[] Keep(byte[] frame)
    {
        if (frame is [EndFrame, ..])
        {
            _ended = true;
            return frame;
        }
        if (frame is [TracedFrame, ..])
        {
            // Only a sender writes these, so bytes that hold no context are a fault of its: they are received whole.
            if (TraceEnvelope.TryUnwrap(frame.AsMemory(1), out var payload, out _pendingSent, out var problem))
            {
                frame = [DataFrame, .. payload.Span];
            }
            else
            {
                Context.Logger.LogWarning("A message of pipe {Pipe} is received as it came: {Problem}", Name, problem);
                frame[0] = DataFrame;
            }
        }
        return _pending = frame;
    }

    /// <summary>Why the other end is gone, or null: closed, or claimed by a process whose lock is free (it died).</summary>
    private async ValueTask<string?> OtherEndGoneAsync(CancellationToken cancellationToken)
    {
        var state = (await Context.Values.GetAsync(State(Other), ScalarKind.Integer, cancellationToken).ConfigureAwait(false)).Integer;
        return state switch
        {
            ClosedEnd => "its other end is closed",
            AbandonedEnd => "the process its other end was given to ended before it took that end",
            ClaimedEnd when !await Context.Locks.IsHeldAsync(Presence(Other), cancellationToken).ConfigureAwait(false) => "the process at its other end ended",
            _ => null,
        };
    }

    private void ThrowIfUnusable(bool allowed, string action)
    {
        ObjectDisposedException.ThrowIf(Closed, this);
        if (!allowed)
        {
            throw new InvalidOperationException($"Cannot {action} end {End} of pipe '{Name}': it is {(Writable ? "write" : "read")}-only.");
        }
    }

    internal override HandleDescriptor Describe() => new(Duplex ? DuplexKind : SimplexKind, Name, End);

    internal static Connection Attach(BrokerContext broker, HandleDescriptor descriptor) =>
        new(broker, descriptor.Name, descriptor.Size, descriptor.Kind == DuplexKind);
}
