namespace Broker.Conformance;

using System.Diagnostics;
using Broker;

// Pipes, between clients of one broker as between processes: CPython's _TestConnection.
public abstract partial class ConformanceTests
{
    public sealed record Greeting(string Text, int[] Numbers);

    /// <summary>An end of a pipe as another client receives it: passed as a queue item, as between processes.</summary>
    private async Task<Connection> ViaPeerAsync(Connection end)
    {
        var mailbox = new Queue<Connection>(broker: Broker);
        await mailbox.PutAsync(end);
        return await new Queue<Connection>(name: mailbox.Name, broker: await PeerAsync()).GetAsync(Patience);
    }

    /// <summary>CPython's test_connection: objects and bytes go both ways in order; recv_bytes_into writes at an
    /// offset; poll says whether a message waits.</summary>
    [Fact]
    public async Task Messages_go_both_ways_in_order_as_objects_or_bytes()
    {
        var (mine, sent) = Pipe.Create(broker: Broker);
        var theirs = await ViaPeerAsync(sent);
        Assert.False(await theirs.PollAsync());
        await mine.SendAsync(new Greeting("hello", [1, 2, 3]));
        mine.Send(42);
        mine.SendBytes("abcdef"u8.ToArray(), 2, 3);
        Assert.True(await theirs.PollAsync(Patience));
        Assert.Equal("hello", (await theirs.RecvAsync<Greeting>()).Text);
        Assert.Equal(42, theirs.Recv<int>());
        var buffer = new byte[8];
        Assert.Equal(3, await theirs.RecvBytesIntoAsync(buffer, 4));
        Assert.Equal("\0\0\0\0cde\0"u8.ToArray(), buffer);

        await theirs.SendBytesAsync("reply"u8.ToArray());
        Assert.Equal("reply"u8.ToArray(), await mine.RecvBytesAsync());
        await theirs.SendAsync("as json");
        Assert.Equal("\"as json\""u8.ToArray(), mine.RecvBytes());
        Assert.True(mine.Readable && mine.Writable && mine.Duplex);
    }

    /// <summary>CPython's test_duplex_false: the first end only receives and the second only sends.</summary>
    [Fact]
    public async Task A_pipe_that_is_not_duplex_receives_at_one_end_and_sends_at_the_other()
    {
        var (reader, writer) = Pipe.Create(duplex: false, broker: Broker);
        var theirs = await ViaPeerAsync(reader);
        Assert.True(theirs.Readable);
        Assert.False(theirs.Writable);
        Assert.False(writer.Readable);
        await writer.SendAsync("one way");
        Assert.Equal("one way", await theirs.RecvAsync<string>());
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => theirs.SendAsync("back").AsTask());
        Assert.Contains("read-only", error.Message);
        Assert.Throws<InvalidOperationException>(() => writer.Poll());
    }

    /// <summary>CPython's test_connection close part: after a close the other end receives what was sent before,
    /// then EOF (Python's EOFError), which poll reports; a send to a closed end is a broken pipe, and a closed end
    /// cannot be used.</summary>
    [Fact]
    public async Task After_a_close_the_other_end_receives_what_was_sent_then_the_end()
    {
        var (mine, sent) = Pipe.Create(broker: Broker);
        var theirs = await ViaPeerAsync(sent);
        await mine.SendAsync("last words");
        await using (mine)
        {
        }
        Assert.True(mine.Closed);
        Assert.Equal("last words", await theirs.RecvAsync<string>());
        Assert.True(await theirs.PollAsync());
        var error = await Assert.ThrowsAsync<EndOfStreamException>(() => theirs.RecvAsync<string>().AsTask());
        Assert.Contains(mine.Name, error.Message);
        Assert.Throws<EndOfStreamException>(() => theirs.RecvBytes());
        await Assert.ThrowsAsync<IOException>(() => theirs.SendAsync("anyone?").AsTask());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => mine.SendAsync("again").AsTask());
    }

    /// <summary>A message of 16 MB arrives whole; one over the limit is refused at Send, naming the pipe.</summary>
    [Fact]
    public async Task A_message_of_16_MB_arrives_whole_and_one_over_the_limit_is_refused_at_Send()
    {
        var (mine, sent) = Pipe.Create(broker: Broker);
        var theirs = await ViaPeerAsync(sent);
        var large = new byte[16 * 1024 * 1024];
        new Random(16).NextBytes(large);
        await mine.SendBytesAsync(large);
        Assert.Equal(large, await theirs.RecvBytesAsync());
        var error = await Assert.ThrowsAsync<ItemTooLargeException>(() => mine.SendBytesAsync(new byte[mine.MaxMessageSize + 1]).AsTask());
        Assert.Contains(mine.Name, error.Message);
    }

    /// <summary>An object that cannot be serialized fails in the sender, naming its type and the pipe, and nothing
    /// reaches the other end.</summary>
    [Fact]
    public async Task An_object_that_cannot_be_serialized_fails_at_Send_naming_its_type()
    {
        var (mine, sent) = Pipe.Create(broker: Broker);
        var theirs = await ViaPeerAsync(sent);
        Action unserializable = () => { };
        var error = await Assert.ThrowsAsync<BrokerSerializationException>(() => mine.SendAsync(unserializable).AsTask());
        Assert.Contains("Action", error.Message);
        Assert.Contains(mine.Name, error.Message);
        Assert.False(await theirs.PollAsync(Short));
    }

    /// <summary>Better than Python, whose connection is unusable after a message that does not fit: it stays next.</summary>
    [Fact]
    public async Task A_message_that_does_not_fit_stays_next()
    {
        var (mine, sent) = Pipe.Create(broker: Broker);
        var theirs = await ViaPeerAsync(sent);
        await mine.SendBytesAsync(new byte[10]);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => theirs.RecvBytesAsync(maxLength: 9).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => theirs.RecvBytesIntoAsync(new byte[12], 3).AsTask());
        await Assert.ThrowsAsync<BrokerSerializationException>(() => theirs.RecvAsync<string>().AsTask());
        Assert.Equal(10, await theirs.RecvBytesIntoAsync(new byte[12], 2));
    }

    /// <summary>CPython's poll with a timeout: false after it when nothing came, true as soon as a message does.</summary>
    [Fact]
    public async Task Poll_waits_up_to_its_timeout_for_a_message()
    {
        var (mine, sent) = Pipe.Create(broker: Broker);
        var theirs = await ViaPeerAsync(sent);
        var clock = Stopwatch.StartNew();
        Assert.False(await theirs.PollAsync(Short));
        Assert.InRange(clock.Elapsed, Short * 0.9, Patience);
        var polling = theirs.PollAsync(Patience).AsTask();
        await mine.SendAsync(1);
        Assert.True(await polling);
        Assert.Equal(1, await theirs.RecvAsync<int>());
    }
}
