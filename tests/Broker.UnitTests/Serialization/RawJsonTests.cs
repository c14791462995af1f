namespace Broker.UnitTests.Serialization;

using System.Buffers;
using System.Text;
using System.Text.Json;
using Broker.Pools;

/// <summary>A message's raw JSON is copied out of the buffer it is read from, whichever way the serializer reads it.</summary>
public sealed class RawJsonTests
{
    private const string Chunk = """[[1],[2, "x]"],{"a":[3]}]""";
    private static readonly byte[] Message = Encoding.UTF8.GetBytes($$"""{"chunk":{{Chunk}},"after":7}""");
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    [Fact]
    public void From_one_buffer()
    {
        AssertWhole(JsonSerializer.Deserialize<Holder>(Message, Options));
    }

    [Fact]
    public void From_a_sequence_cut_anywhere()
    {
        for (var cut = 1; cut < Message.Length; cut++)
        {
            var first = new Segment(Message.AsMemory(0, cut), 0);
            var last = first.Append(Message.AsMemory(cut));
            var reader = new Utf8JsonReader(new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length));
            AssertWhole(JsonSerializer.Deserialize<Holder>(ref reader, Options));
        }
    }

    [Fact]
    public async Task From_a_stream_read_a_byte_at_a_time()
    {
        AssertWhole(await JsonSerializer.DeserializeAsync<Holder>(new MemoryStream(Message), new JsonSerializerOptions(Options) { DefaultBufferSize = 1 }));
    }

    [Fact]
    public void A_value_that_is_not_an_array_or_object()
    {
        Assert.Equal("5", Encoding.UTF8.GetString(JsonSerializer.Deserialize<Holder>("""{"chunk":5,"after":7}""", Options)!.Chunk.Utf8.Span));
    }

    private static void AssertWhole(Holder? holder)
    {
        Assert.NotNull(holder);
        Assert.Equal(Chunk, Encoding.UTF8.GetString(holder.Chunk.Utf8.Span));
        Assert.Equal(7, holder.After);
    }

    internal sealed record Holder(RawJson Chunk, int After);

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
