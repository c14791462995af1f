using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;

namespace Broker.Transport.Local;

internal delegate void FrameHandler(int id, byte code, ReadOnlySpan<byte> payload);

/// <summary>Frames over one Unix-domain socket. A frame is sent at once, on the caller's thread, under a lock: a
/// local socket rarely makes a send wait, and a hand-off to a writer task costs more than the write itself. A frame
/// that no caller waits on may instead go with the next (<see cref="SendSoon"/>). A send never waits for the peer to
/// read: what its socket buffer does not take goes into a backlog that a thread of its own sends, so a peer that
/// stops reading (stopped with SIGSTOP, or hung) never holds up the sender, nor the broker's lock it sends under.</summary>
internal sealed class FrameConnection : IAsyncDisposable
{
    private const int ReceiveBufferSize = 64 * 1024;

    /// <summary>How long closing waits for a backlog to reach a peer that does not read.</summary>
    private static readonly TimeSpan s_closeDrainLimit = TimeSpan.FromSeconds(5);

    private readonly Socket _socket;
    private readonly nint _descriptor;
    private readonly System.Threading.Lock _sending = new();
    private bool _closed;

    // What the peer's socket did not take yet, in order, and whether the backlog's thread is sending it; under
    // _sending. While either holds, every frame joins the backlog. The buffer is the pool's. Once _gone (the peer
    // left, or the socket closed) nothing more is sent.
    private byte[]? _backlog;
    private int _backlogLength;
    private bool _draining;
    private bool _gone;
    private readonly ManualResetEventSlim _drained = new(initialState: true);

    // The backlog's thread, started the first time a backlog forms and kept until the connection closes: a peer that
    // reads in bursts forms a backlog again and again, and a thread started each time would cost more than the send.
    private readonly SemaphoreSlim _backlogFormed = new(0);
    private Thread? _drainer;

    // Frames that go with the next send, or on their own when the flush queued with the first of them runs; under
    // _sending. The buffer is the pool's.
    private byte[]? _soon;
    private int _soonLength;
    private bool _flushQueued;

    /// <param name="socket">Connected, and never used asynchronously: such a socket stays non-blocking, and its
    /// blocking reads and sends then wait on the runtime's event loop, a second thread woken for each frame.</param>
    public FrameConnection(Socket socket)
    {
        _socket = socket;
        _descriptor = socket.SafeHandle.DangerousGetHandle();
    }

    /// <summary>Sends a finished frame, after any sent soon, and returns its buffer to the pool. A peer that is gone is
    /// not an error here: the read loop sees it and ends the session.</summary>
    public void Send((byte[] Buffer, int Length) frame)
    {
        lock (_sending)
        {
            if (_soonLength == 0)
            {
                Write(frame.Buffer, frame.Length);
            }
            else
            {
                AppendSoon(frame.Buffer, frame.Length);
                WriteSoon();
            }
        }
        ArrayPool<byte>.Shared.Return(frame.Buffer);
    }

    /// <summary>Sends a frame with the next one, or on its own as soon as the thread pool runs the flush queued for it,
    /// and returns its buffer to the pool. Frames keep their order. A consumer's acknowledgement, followed at once by
    /// its next get, then costs one write instead of two, and waits for nothing if nothing follows.</summary>
    public void SendSoon((byte[] Buffer, int Length) frame)
    {
        bool queueFlush;
        lock (_sending)
        {
            AppendSoon(frame.Buffer, frame.Length);
            queueFlush = !_flushQueued;
            _flushQueued = true;
        }
        ArrayPool<byte>.Shared.Return(frame.Buffer);
        if (queueFlush)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static connection => connection.Flush(), this, preferLocal: true);
        }
    }

    private void Flush()
    {
        lock (_sending)
        {
            _flushQueued = false;
            WriteSoon();
        }
    }

    private void AppendSoon(byte[] buffer, int length) => Append(ref _soon, ref _soonLength, buffer.AsSpan(0, length));

    private static void Append(ref byte[]? pending, ref int pendingLength, ReadOnlySpan<byte> bytes)
    {
        if (pending is null || pending.Length - pendingLength < bytes.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(256, 2 * (pendingLength + bytes.Length)));
            if (pending is not null)
            {
                pending.AsSpan(0, pendingLength).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(pending);
            }
            pending = larger;
        }
        bytes.CopyTo(pending.AsSpan(pendingLength));
        pendingLength += bytes.Length;
    }

    private void WriteSoon()
    {
        if (_soonLength > 0)
        {
            Write(_soon!, _soonLength);
            _soonLength = 0;
        }
    }

    /// <summary>Under <see cref="_sending"/>: sends what the socket takes now, and leaves the rest to the backlog.</summary>
    private void Write(byte[] buffer, int length)
    {
        if (_gone)
        {
            return;
        }
        var sent = 0;
        if (_backlogLength == 0 && !_draining)
        {
            while (sent < length)
            {
                var now = Native.SendNow(_descriptor, buffer.AsSpan(sent, length - sent));
                if (now <= 0)
                {
                    if (now < 0)
                    {
                        // The read loop sees the peer leave and ends the session.
                        _gone = true;
                        return;
                    }
                    break;
                }
                sent += now;
            }
            if (sent == length)
            {
                return;
            }
        }
        Append(ref _backlog, ref _backlogLength, buffer.AsSpan(sent, length - sent));
        if (!_draining)
        {
            _draining = true;
            _drained.Reset();
            if (_drainer is null)
            {
                _drainer = new Thread(Drain) { IsBackground = true, Name = "Broker local backlog" };
                _drainer.Start();
            }
            else
            {
                _backlogFormed.Release();
            }
        }
    }

    /// <summary>Sends each backlog with sends that wait, outside the lock, until it is empty, then waits for the next
    /// one, until the connection closes.</summary>
    private void Drain()
    {
        while (true)
        {
            byte[]? pending = null;
            var length = 0;
            lock (_sending)
            {
                if (_backlogLength == 0 || _gone)
                {
                    _draining = false;
                    _drained.Set();
                    if (_gone)
                    {
                        return;
                    }
                }
                else
                {
                    (pending, length, _backlog, _backlogLength) = (_backlog!, _backlogLength, null, 0);
                }
            }
            if (pending is null)
            {
                _backlogFormed.Wait();
                continue;
            }
            try
            {
                var sent = 0;
                while (sent < length)
                {
                    sent += _socket.Send(pending, sent, length - sent, SocketFlags.None);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                lock (_sending)
                {
                    _gone = true;
                }
            }
            ArrayPool<byte>.Shared.Return(pending);
        }
    }

    /// <summary>Starts reading frames on a thread of its own, calling <paramref name="handler"/> for each; the task
    /// completes when the peer closes the connection. A blocking read on a dedicated thread hands each frame over with no trip through the
    /// thread pool, which on two cores is most of a round trip's cost. The payload is valid only during the call.
    /// The task fails with <see cref="InvalidDataException"/> on a malformed frame.</summary>
    public Task StartReading(FrameHandler handler, string threadName)
    {
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reader = new Thread(() =>
        {
            try
            {
                ReadLoop(handler);
                ended.SetResult();
            }
            catch (Exception e)
            {
                ended.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = threadName,
        };
        reader.Start();
        return ended.Task;
    }

    private void ReadLoop(FrameHandler handler)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
        var pooled = true;
        int start = 0, end = 0;
        try
        {
            while (true)
            {
                while (end - start >= 4)
                {
                    var length = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(start));
                    if (length < Wire.HeaderSize - 4 || length > Wire.MaxFrame)
                    {
                        throw new InvalidDataException($"A frame of {length} bytes is not a local broker frame.");
                    }
                    if (end - start < 4 + length)
                    {
                        if (4 + length > buffer.Length && start == 0 && end == buffer.Length)
                        {
                            // Doubled once the frame's bytes fill it, not grown to the length the frame announces: a
                            // peer that announces a large frame and sends nothing more holds no memory for it. A
                            // larger buffer is not pooled, so that the collector takes it back once the connection ends.
                            var size = (int)Math.Min(2L * buffer.Length, 4L + Wire.MaxFrame);
                            var larger = GC.AllocateUninitializedArray<byte>(size);
                            buffer.AsSpan(start, end - start).CopyTo(larger);
                            if (pooled)
                            {
                                ArrayPool<byte>.Shared.Return(buffer);
                            }
                            (buffer, end, start, pooled) = (larger, end - start, 0, false);
                        }
                        break;
                    }
                    var id = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(start + 4));
                    handler(id, buffer[start + 8], buffer.AsSpan(start + Wire.HeaderSize, (int)length + 4 - Wire.HeaderSize));
                    start += 4 + (int)length;
                }
                if (start == end)
                {
                    start = end = 0;
                }
                else if (end == buffer.Length)
                {
                    buffer.AsSpan(start, end - start).CopyTo(buffer);
                    (end, start) = (end - start, 0);
                }
                var read = _socket.Receive(buffer.AsSpan(end), SocketFlags.None);
                if (read == 0)
                {
                    return;
                }
                end += read;
            }
        }
        finally
        {
            if (pooled)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>Sends what was left to send soon and the backlog (waiting a few seconds at most for a peer that does
    /// not read), then closes the socket, which also ends the read loop. Safe to call more than once.</summary>
    public ValueTask DisposeAsync()
    {
        lock (_sending)
        {
            if (_closed)
            {
                return default;
            }
            _closed = true;
            WriteSoon();
            if (_soon is not null)
            {
                ArrayPool<byte>.Shared.Return(_soon);
                _soon = null;
            }
        }
        _drained.Wait(s_closeDrainLimit);
        lock (_sending)
        {
            _gone = true;
            // Wakes the backlog's thread, if there is one, to end.
            _backlogFormed.Release();
            try
            {
                // Shutdown wakes a read blocked on this socket; Dispose alone would not.
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
                // Already disconnected by the peer.
            }
            _socket.Dispose();
        }
        return default;
    }
}
