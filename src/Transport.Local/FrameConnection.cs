using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Broker.Transport.Local;

internal delegate void FrameHandler(int id, byte code, ReadOnlySpan<byte> payload);

/// <summary>Frames over one Unix-domain socket. Sends go through a queue drained by one writer, which packs every
/// frame waiting into one write: under load many operations share a system call.</summary>
internal sealed class FrameConnection : IAsyncDisposable
{
    private const int BatchSize = 64 * 1024;
    private readonly Socket _socket;
    private readonly Channel<(byte[] Buffer, int Length)> _outbox =
        Channel.CreateUnbounded<(byte[] Buffer, int Length)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writing;

    public FrameConnection(Socket socket)
    {
        _socket = socket;
        _writing = WriteLoopAsync();
    }

    /// <summary>Queues a finished frame; the connection returns its buffer to the pool.</summary>
    public void Send((byte[] Buffer, int Length) frame)
    {
        if (!_outbox.Writer.TryWrite(frame))
        {
            ArrayPool<byte>.Shared.Return(frame.Buffer);
        }
    }

    /// <summary>Calls <paramref name="handler"/> for each frame until the peer closes the connection. The payload is
    /// valid only during the call.</summary>
    /// <exception cref="InvalidDataException">A frame is malformed.</exception>
    public async Task ReadAsync(FrameHandler handler, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BatchSize);
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
                        if (4 + length > buffer.Length)
                        {
                            var larger = ArrayPool<byte>.Shared.Rent((int)length + 4);
                            buffer.AsSpan(start, end - start).CopyTo(larger);
                            ArrayPool<byte>.Shared.Return(buffer);
                            (buffer, end, start) = (larger, end - start, 0);
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
                var read = await _socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }
                end += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _outbox.Writer.TryComplete();
        await _writing.ConfigureAwait(false);
        _socket.Dispose();
    }

    private async Task WriteLoopAsync()
    {
        var batch = new byte[BatchSize];
        var reader = _outbox.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                var filled = 0;
                while (reader.TryRead(out var frame))
                {
                    try
                    {
                        if (frame.Length > batch.Length - filled && filled > 0)
                        {
                            await SendAsync(batch, filled).ConfigureAwait(false);
                            filled = 0;
                        }
                        if (frame.Length > batch.Length)
                        {
                            await SendAsync(frame.Buffer, frame.Length).ConfigureAwait(false);
                            continue;
                        }
                        frame.Buffer.AsSpan(0, frame.Length).CopyTo(batch.AsSpan(filled));
                        filled += frame.Length;
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(frame.Buffer);
                    }
                }
                if (filled > 0)
                {
                    await SendAsync(batch, filled).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The peer is gone; the read loop sees the same and ends the session.
            _outbox.Writer.TryComplete();
            while (reader.TryRead(out var frame))
            {
                ArrayPool<byte>.Shared.Return(frame.Buffer);
            }
        }
    }

    private async ValueTask SendAsync(byte[] buffer, int length)
    {
        var sent = 0;
        while (sent < length)
        {
            sent += await _socket.SendAsync(buffer.AsMemory(sent, length - sent), SocketFlags.None).ConfigureAwait(false);
        }
    }
}
