namespace Broker.Bench;

using System.Diagnostics;
using Broker;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

/// <summary>Broker on RabbitMQ against raw RabbitMQ.Client 7 doing the same work with the same guarantees: durable
/// classic queues, persistent messages, puts that return once confirmed with a window of publishes in flight, and
/// manual acknowledgements with a prefetch of one. Broker and raw runs alternate; each figure is the median.</summary>
public static class RabbitMqBench
{
    /// <summary>Publishes in flight at once, on both sides.</summary>
    private const int Window = 256;

    public static async Task RunAsync(Options options, string url)
    {
        await using var broker = BrokerContext.Connect(url);
        await using var connection = await new ConnectionFactory { Uri = new Uri(url) }.CreateConnectionAsync();
        Console.WriteLine($"Broker on RabbitMQ ({BrokerUrl.Redact(url)}) vs raw RabbitMQ.Client, {options.Items} items, window {Window}, median of {options.Repeats} runs");
        var items = options.Items;
        var cases = new (string Name, Func<Task<double>> Broker, Func<Task<double>> Raw)[]
        {
            ("Queue put (confirmed)", () => PutAsync(new Queue<int>(broker: broker), items), () => RawPutAsync(connection, items)),
            ("Queue get + ack (prefetch 1)", () => GetAsync(new Queue<int>(broker: broker), items), () => RawGetAsync(connection, items)),
            ("Queue put and get at once", () => BothAsync(new Queue<int>(broker: broker), items), () => RawBothAsync(connection, items)),
            // No raw figure has the same guarantee (an exact Join across processes): this line shows what it costs.
            ("JoinableQueue put+get+task_done vs raw put+get", () => JoinableAsync(new JoinableQueue<int>(broker: broker), items / 10),
                () => RawBothAsync(connection, items / 10)),
        };
        foreach (var (name, measureBroker, measureRaw) in cases)
        {
            await measureBroker(); // warm-up: JIT, connections, channels
            await measureRaw();
            var brokerRates = new List<double>();
            var rawRates = new List<double>();
            for (var i = 0; i < options.Repeats; i++)
            {
                brokerRates.Add(await measureBroker());
                rawRates.Add(await measureRaw());
            }
            Report.Rate(name, "items/s", Report.Median(brokerRates), Report.Median(rawRates), "raw");
        }
    }

    private static async Task<double> PutAsync(Queue<int> queue, int items)
    {
        await queue.PutAsync(-1); // declares the queue outside the timing
        await queue.GetAsync();
        var clock = Stopwatch.StartNew();
        await Windowed(items, i => queue.PutAsync(i).AsTask());
        var rate = items / clock.Elapsed.TotalSeconds;
        await DrainAsync(queue, items);
        return rate;
    }

    private static async Task<double> GetAsync(Queue<int> queue, int items)
    {
        await Windowed(items, i => queue.PutAsync(i).AsTask());
        var clock = Stopwatch.StartNew();
        await DrainAsync(queue, items);
        return items / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> BothAsync(Queue<int> queue, int items)
    {
        await queue.PutAsync(-1);
        await queue.GetAsync();
        var clock = Stopwatch.StartNew();
        var consuming = DrainAsync(queue, items);
        await Windowed(items, i => queue.PutAsync(i).AsTask());
        await consuming;
        return items / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> JoinableAsync(JoinableQueue<int> queue, int items)
    {
        await queue.JoinAsync(); // creates the queue and its count outside the timing
        var clock = Stopwatch.StartNew();
        var consuming = Task.Run(async () =>
        {
            for (var i = 0; i < items; i++)
            {
                await queue.GetAsync();
                await queue.TaskDoneAsync();
            }
        });
        await Windowed(items, i => queue.PutAsync(i).AsTask());
        await consuming;
        await queue.JoinAsync();
        return items / clock.Elapsed.TotalSeconds;
    }

    private static async Task DrainAsync(Queue<int> queue, int items)
    {
        for (var i = 0; i < items; i++)
        {
            await queue.GetAsync();
        }
    }

    private static async Task<double> RawPutAsync(IConnection connection, int items)
    {
        var queue = await DeclareAsync(connection);
        await using var channel = await ConfirmChannelAsync(connection);
        var clock = Stopwatch.StartNew();
        await Windowed(items, i => Publish(channel, queue, i));
        var rate = items / clock.Elapsed.TotalSeconds;
        await channel.QueueDeleteAsync(queue);
        return rate;
    }

    private static async Task<double> RawGetAsync(IConnection connection, int items)
    {
        var queue = await DeclareAsync(connection);
        await using (var publisher = await ConfirmChannelAsync(connection))
        {
            await Windowed(items, i => Publish(publisher, queue, i));
        }
        var clock = Stopwatch.StartNew();
        await RawConsumeAsync(connection, queue, items);
        return items / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> RawBothAsync(IConnection connection, int items)
    {
        var queue = await DeclareAsync(connection);
        await using var publisher = await ConfirmChannelAsync(connection);
        var clock = Stopwatch.StartNew();
        var consuming = RawConsumeAsync(connection, queue, items);
        await Windowed(items, i => Publish(publisher, queue, i));
        await consuming;
        return items / clock.Elapsed.TotalSeconds;
    }

    /// <summary>A consumer with prefetch 1 and manual acks, reading each body as Broker does.</summary>
    private static async Task RawConsumeAsync(IConnection connection, string queue, int items)
    {
        await using var channel = await connection.CreateChannelAsync();
        await channel.BasicQosAsync(0, 1, false);
        var done = new TaskCompletionSource();
        var received = 0;
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            _ = System.Text.Json.JsonSerializer.Deserialize<int>(delivery.Body.Span);
            await channel.BasicAckAsync(delivery.DeliveryTag, false);
            if (++received == items)
            {
                done.SetResult();
            }
        };
        var tag = await channel.BasicConsumeAsync(queue, autoAck: false, consumer);
        await done.Task;
        await channel.BasicCancelAsync(tag);
        await channel.QueueDeleteAsync(queue);
    }

    private static async Task<string> DeclareAsync(IConnection connection)
    {
        await using var channel = await connection.CreateChannelAsync();
        var name = $"raw-{Guid.NewGuid():N}";
        await channel.QueueDeclareAsync(name, durable: true, exclusive: false, autoDelete: false,
            new Dictionary<string, object?> { ["x-queue-type"] = "classic" });
        return name;
    }

    private static Task<IChannel> ConfirmChannelAsync(IConnection connection) =>
        connection.CreateChannelAsync(new CreateChannelOptions(true, true, new ThrottlingRateLimiter(Window)));

    private static async Task Publish(IChannel channel, string queue, int item) =>
        await channel.BasicPublishAsync("", queue, true, new BasicProperties { Persistent = true }, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(item));

    /// <summary>Runs <paramref name="start"/> for each item with at most <see cref="Window"/> unfinished at once.</summary>
    private static async Task Windowed(int items, Func<int, Task> start)
    {
        using var slots = new SemaphoreSlim(Window);
        var running = new List<Task>(items);
        for (var i = 0; i < items; i++)
        {
            await slots.WaitAsync();
            var item = start(i);
            running.Add(item);
            _ = item.ContinueWith(_ => slots.Release(), TaskScheduler.Default);
        }
        await Task.WhenAll(running);
    }
}
