using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Broker.Transport;

namespace Broker.Transport.Local;

/// <summary>The local broker's frames. A request is <c>[length:u32][id:i32][op:u8][arguments]</c>; its response is
/// <c>[length:u32][id:i32][status:u8][result]</c>. Ids let one connection carry many waiting operations at once,
/// and <see cref="Op.Cancel"/> ends one of them early. A request with the id <see cref="Unanswered"/> gets no
/// response, and a frame the broker sends with that id is a push (<see cref="Status.Prefetched"/>,
/// <see cref="Status.Recall"/>).</summary>
internal static class Wire
{
    public const int HeaderSize = 9;
    /// <summary>The largest item the local broker carries.</summary>
    public const int MaxItem = 64 * 1024 * 1024;

    /// <summary>The largest frame: room for an item at the limit as a dead letter, a third larger, and its header.</summary>
    public const int MaxFrame = 2 * MaxItem;

    /// <summary>The id of a request that wants no response, and of a frame the broker pushes.</summary>
    public const int Unanswered = 0;
}

internal enum Op : byte
{
    Declare = 1,
    Put,
    Get,
    Ack,
    Count,
    Join,
    Slot,
    Cancel,
    Consumed,
    GaveBack,
    Flush,
    Watch,
    Notify,
    Collection,
    Inspect,
}

internal enum Status : byte
{
    Ok = 0,
    Cancelled = 1,
    Failed = 2,

    // Pushed by the broker with the id Wire.Unanswered, answering no request.
    Prefetched = 3,
    Recall = 4,
}

/// <summary>The exception types that cross the wire by kind, so that a child sees the same type the parent would.</summary>
internal enum Failure : byte
{
    Broker = 0,
    InvalidOperation,
    Argument,
    Unavailable,
    MaxSizeConflict,
}

/// <summary>Builds one frame in a pooled buffer; <see cref="Finish"/> hands the buffer to the connection, which returns it.</summary>
internal struct FrameWriter
{
    private byte[] _buffer;
    private int _length;

    public FrameWriter(int id, byte code, int sizeHint = 64)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Wire.HeaderSize + sizeHint);
        _length = Wire.HeaderSize;
        BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(4), id);
        _buffer[8] = code;
    }

    public void Byte(byte value) => Reserve(1)[0] = value;

    public void Int32(int value) => BinaryPrimitives.WriteInt32LittleEndian(Reserve(4), value);

    public void Int64(long value) => BinaryPrimitives.WriteInt64LittleEndian(Reserve(8), value);

    public void Int64s(IReadOnlyCollection<long> values)
    {
        Int32(values.Count);
        foreach (var value in values)
        {
            Int64(value);
        }
    }

    public void Timeout(TimeSpan timeout) => Int64(timeout == System.Threading.Timeout.InfiniteTimeSpan ? -1 : timeout.Ticks);

    public void Scalar(Scalar value)
    {
        Byte((byte)value.Kind);
        Int64(value.Bits);
    }

    public void String(string value)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        Int32(count);
        Encoding.UTF8.GetBytes(value, Reserve(count));
    }

    public void Bytes(ReadOnlySpan<byte> value)
    {
        Int32(value.Length);
        value.CopyTo(Reserve(value.Length));
    }

    public (byte[] Buffer, int Length) Finish()
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer, (uint)(_length - 4));
        var frame = (_buffer, _length);
        _buffer = null!;
        return frame;
    }

    private Span<byte> Reserve(int count)
    {
        if (_length + count > _buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + count));
            _buffer.AsSpan(0, _length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }
}

/// <summary>Reads the arguments or result of one frame.</summary>
internal ref struct FrameReader(ReadOnlySpan<byte> payload)
{
    private ReadOnlySpan<byte> _rest = payload;

    public byte Byte()
    {
        var value = _rest[0];
        _rest = _rest[1..];
        return value;
    }

    public int Int32()
    {
        var value = BinaryPrimitives.ReadInt32LittleEndian(_rest);
        _rest = _rest[4..];
        return value;
    }

    public long Int64()
    {
        var value = BinaryPrimitives.ReadInt64LittleEndian(_rest);
        _rest = _rest[8..];
        return value;
    }

    public long[] Int64s()
    {
        var values = new long[Count(sizeof(long))];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Int64();
        }
        return values;
    }

    public TimeSpan Timeout() => Int64() is var ticks && ticks < 0 ? System.Threading.Timeout.InfiniteTimeSpan : TimeSpan.FromTicks(ticks);

    public Scalar Scalar()
    {
        var kind = (ScalarKind)Byte();
        return Transport.Scalar.FromBits(kind, Int64());
    }

    public string String() => Encoding.UTF8.GetString(Bytes());

    public ReadOnlySpan<byte> Bytes()
    {
        var count = Count(1);
        var value = _rest[..count];
        _rest = _rest[count..];
        return value;
    }

    /// <summary>Reads the count of a list, checked against the bytes left: a frame that announces more elements than
    /// it holds is malformed, and its count allocates nothing.</summary>
    private int Count(int elementSize)
    {
        var count = Int32();
        return count >= 0 && count <= _rest.Length / elementSize
            ? count
            : throw new InvalidDataException($"A frame announces {count} elements of {elementSize} bytes but holds {_rest.Length} bytes.");
    }
}
