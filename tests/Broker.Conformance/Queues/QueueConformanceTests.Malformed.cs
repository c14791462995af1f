namespace Broker.Conformance;

using System.Text;
using Broker;

/// <summary>Whatever lies in a queue's storage, a consumer never fails for it: an item it cannot read goes to the dead
/// letters as it came, with the reason, counts as done, and the consumer goes on to the next.</summary>
public abstract partial class QueueConformanceTests
{
    private const int ForeignItems = 1_500;

    /// <summary>Writes <paramref name="body"/> into the queue's storage as something other than Broker could, with
    /// whatever else the transport stores beside a body (headers, an envelope) drawn from <paramref name="random"/>.
    /// By default, through the transport's own Put, bytes as they are.</summary>
    protected virtual async Task WriteForeignAsync(string queue, byte[] body, Random random) =>
        Assert.True(await Broker.Queues.Joinable.PutAsync(queue, body, TimeSpan.Zero, CancellationToken.None));

    [Fact]
    public async Task Whatever_bytes_lie_in_a_queue_a_consumer_dead_letters_them_as_they_came_and_goes_on()
    {
        var random = new Random(20261201);
        var queue = new JoinableQueue<Order>(broker: Broker);
        await queue.EnsureCreatedAsync(CancellationToken.None);
        var valid = new List<int>();
        var foreign = new List<byte[]>();
        for (var i = 0; foreign.Count < ForeignItems; i++)
        {
            if (i % 4 == 0)
            {
                await queue.PutAsync(new Order("valid", i, [i], null));
                valid.Add(i);
                continue;
            }
            var body = Garbage(random, i);
            if (Reads(body))
            {
                continue;
            }
            await WriteForeignAsync(queue.Name, body, random);
            foreign.Add(body);
        }
        // A valid item last, so that the consumer takes every foreign one on its way.
        await queue.PutAsync(new Order("valid", -1, [], null));
        valid.Add(-1);

        var got = new List<int>();
        while (got.Count < valid.Count)
        {
            got.Add((await queue.GetAsync(Patience)).Quantity);
            await queue.TaskDoneAsync();
        }
        Assert.Equal(valid, got);
        Assert.True(await queue.JoinAsync(Patience), "every item, read or dead-lettered, is done");
        var dead = new List<DeadLetter>();
        while (dead.Count < foreign.Count)
        {
            dead.Add(await queue.DeadLetters.GetAsync(Patience));
        }
        Assert.Equal(foreign.Select(Convert.ToHexString), dead.Select(letter => Convert.ToHexString(letter.Body)));
        Assert.All(dead, letter => Assert.False(string.IsNullOrWhiteSpace(letter.Reason)));
        Assert.Equal(0, await queue.DeadLetters.CountAsync());
    }

    /// <summary>Random bytes, valid items cut short, the shapes transports use for their own envelopes (a NUL
    /// first, a NUL and a count with nothing after), and trace contexts that are not closed or not W3C.</summary>
    private static byte[] Garbage(Random random, int i)
    {
        var json = Encoding.UTF8.GetBytes($$"""{"Name":"valid","Quantity":{{i}},"Prices":[{{i}}],"Note":null}""");
        switch (i % 6)
        {
            case 0:
                return json[..random.Next(json.Length)];
            case 1:
                return [0];
            case 2:
                return [0, (byte)random.Next(256)];
            case 3:
                return [0, (byte)random.Next(256), .. json[..random.Next(json.Length)]];
            case 4:
                var context = Encoding.ASCII.GetBytes($"00-{Guid.NewGuid():N}-{random.NextInt64():x16}-01");
                context[random.Next(context.Length)] = (byte)'g';
                return random.Next(2) == 0 ? [0x1E, .. context[..random.Next(context.Length)]] : [0x1E, .. context, 0x1E, .. json];
            default:
                var bytes = new byte[random.Next(0, 64)];
                random.NextBytes(bytes);
                return bytes;
        }
    }

    private bool Reads(byte[] body)
    {
        try
        {
            Broker.Serializer.Deserialize<Order>(body, "a probe");
            return true;
        }
        catch (BrokerSerializationException)
        {
            return false;
        }
    }
}
