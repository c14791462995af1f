namespace Broker.UnitTests.Local;

using System.Buffers.Binary;
using Broker.Transport.Local;

/// <summary>A frame's lists announce their length: one that announces more than the frame holds is malformed, and is
/// refused before anything is allocated for it.</summary>
public sealed class FrameReaderTests
{
    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(3)]
    [InlineData(-1)]
    public void A_list_longer_than_its_frame_is_refused_as_malformed(int count)
    {
        var payload = new byte[4 + 16];
        BinaryPrimitives.WriteInt32LittleEndian(payload, count);
        var numbers = Assert.Throws<InvalidDataException>(() => new FrameReader(payload).Int64s());
        Assert.Contains($"announces {count} elements", numbers.Message);
        BinaryPrimitives.WriteInt32LittleEndian(payload, count == 3 ? 17 : count);
        Assert.Throws<InvalidDataException>(() => new FrameReader(payload).Bytes().Length);
    }

    [Fact]
    public void A_list_that_fills_its_frame_is_read_whole()
    {
        var payload = new byte[4 + 16];
        BinaryPrimitives.WriteInt32LittleEndian(payload, 2);
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(4), 7);
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(12), -7);
        Assert.Equal([7L, -7L], new FrameReader(payload).Int64s());
    }
}
