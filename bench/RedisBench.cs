namespace Broker.Bench;

using System.Diagnostics;
using Broker;
using Broker.Transport.Redis;
using StackExchange.Redis;

/// <summary>Broker on Redis against raw StackExchange.Redis doing the same reliable work: the same Lua scripts, the
/// same round trips, awaited one at a time. The ratio is what Broker's layer (serialization, handles, retries,
/// lease bookkeeping) costs. Broker and raw runs alternate, and each figure is the median of the repeats. The
/// "at once" cases run <see cref="InFlight"/> callers side by side on each side, as applications do: all the puts,
/// then all the gets.</summary>
public static class RedisBench
{
    /// <summary>The calls in flight at once in the concurrent cases.</summary>
    private const int InFlight = 16;

    public static async Task RunAsync(Options options, string url)
    {
        var uri = new Uri(url);
        await using var raw = await ConnectionMultiplexer.ConnectAsync($"{uri.Host}:{uri.Port}");
        await using var broker = BrokerContext.Connect(url);
        var db = raw.GetDatabase();
        Console.WriteLine($"Broker on Redis ({url}) vs raw StackExchange.Redis, same scripts, median of {options.Repeats} runs");

        var cases = new (string Name, string Unit, Func<Task<double>> Broker, Func<Task<double>> Raw)[]
        {
            ("Queue put + get", "items/s", () => QueueAsync(broker, options.Items), () => RawQueueAsync(db, options.Items)),
            ("Lock acquire + release", "cycles/s", () => LockAsync(broker, options.Items), () => RawLockAsync(db, options.Items)),
            ("Value.Add", "ops/s", () => AddAsync(broker, options.Items), () => RawAddAsync(db, options.Items)),
            ($"Queue put + get, {InFlight} at once", "items/s", () => QueueInFlightAsync(broker, options.Items), () => RawQueueInFlightAsync(db, options.Items)),
            ($"Value.Add, {InFlight} at once", "ops/s", () => AddInFlightAsync(broker, options.Items), () => RawAddInFlightAsync(db, options.Items)),
        };
        foreach (var (name, unit, measureBroker, measureRaw) in cases)
        {
            var brokerRates = new List<double>();
            var rawRates = new List<double>();
            await measureBroker(); // warm-up: JIT and script cache
            await measureRaw();
            for (var i = 0; i < options.Repeats; i++)
            {
                brokerRates.Add(await measureBroker());
                rawRates.Add(await measureRaw());
            }
            Report.Rate(name, unit, Report.Median(brokerRates), Report.Median(rawRates), "raw");
        }
    }

    private static async Task<double> QueueAsync(BrokerContext broker, int items)
    {
        var queue = new Queue<int>(broker: broker);
        await queue.PutAsync(-1); // declares the queue outside the timing
        await queue.GetAsync();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < items; i++)
        {
            await queue.PutAsync(i);
        }
        for (var i = 0; i < items; i++)
        {
            await queue.GetAsync();
        }
        return items / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> RawQueueAsync(IDatabase db, int items)
    {
        var name = $"raw-{Guid.NewGuid():N}";
        RedisKey[] putKeys = [$"broker:q:{{{name}}}:items", $"broker:q:{{{name}}}:meta", $"broker:q:{{{name}}}:unfinished"];
        RedisKey[] getKeys = [putKeys[0], $"broker:q:{{{name}}}:taken", $"broker:q:{{{name}}}:leases", putKeys[2], $"broker:q:{{{name}}}:ids", putKeys[1]];
        RedisValue channel = $"broker:q:{{{name}}}:signal";
        await db.ScriptEvaluateAsync(RedisScripts.Declare, [putKeys[1]], [0]);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < items; i++)
        {
            await db.ScriptEvaluateAsync(RedisScripts.Put, putKeys, [channel, i.ToString()]);
        }
        for (var i = 0; i < items; i++)
        {
            var taken = (RedisResult[])(await db.ScriptEvaluateAsync(RedisScripts.Get, getKeys, [0, 10_000, channel, 1]))!;
            _ = int.Parse((string)taken[1]!);
        }
        return items / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> LockAsync(BrokerContext broker, int cycles)
    {
        var @lock = new Lock(broker: broker);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < cycles; i++)
        {
            await @lock.AcquireAsync();
            await @lock.ReleaseAsync();
        }
        return cycles / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> RawLockAsync(IDatabase db, int cycles)
    {
        var name = $"raw-{Guid.NewGuid():N}";
        RedisKey[] keys = [$"broker:l:{{{name}}}", $"broker:l:{{{name}}}:fence"];
        RedisValue channel = $"broker:l:{{{name}}}:released";
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < cycles; i++)
        {
            var owner = Guid.NewGuid().ToString("N");
            await db.ScriptEvaluateAsync(RedisScripts.Acquire, keys, [owner, 10_000]);
            await db.ScriptEvaluateAsync(RedisScripts.Release, [keys[0]], [owner, channel]);
        }
        return cycles / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> AddAsync(BrokerContext broker, int ops)
    {
        var value = new Value<long>(0, broker: broker);
        await value.GetAsync(); // creates the value outside the timing
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < ops; i++)
        {
            await value.AddAsync(1);
        }
        return ops / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> RawAddAsync(IDatabase db, int ops)
    {
        RedisKey key = $"broker:v:{{raw-{Guid.NewGuid():N}}}";
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < ops; i++)
        {
            await db.StringIncrementAsync(key, 1);
        }
        return ops / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> QueueInFlightAsync(BrokerContext broker, int items)
    {
        var queue = new Queue<int>(broker: broker);
        await queue.PutAsync(-1); // declares the queue outside the timing
        await queue.GetAsync();
        var clock = Stopwatch.StartNew();
        await SideBySideAsync(items, i => queue.PutAsync(i).AsTask());
        await SideBySideAsync(items, _ => queue.GetAsync().AsTask());
        return items / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> RawQueueInFlightAsync(IDatabase db, int items)
    {
        var name = $"raw-{Guid.NewGuid():N}";
        RedisKey[] putKeys = [$"broker:q:{{{name}}}:items", $"broker:q:{{{name}}}:meta", $"broker:q:{{{name}}}:unfinished"];
        RedisKey[] getKeys = [putKeys[0], $"broker:q:{{{name}}}:taken", $"broker:q:{{{name}}}:leases", putKeys[2], $"broker:q:{{{name}}}:ids", putKeys[1]];
        RedisValue channel = $"broker:q:{{{name}}}:signal";
        await db.ScriptEvaluateAsync(RedisScripts.Declare, [putKeys[1]], [0]);
        var clock = Stopwatch.StartNew();
        await SideBySideAsync(items, i => db.ScriptEvaluateAsync(RedisScripts.Put, putKeys, [channel, i.ToString()]));
        await SideBySideAsync(items, async _ =>
        {
            var taken = (RedisResult[])(await db.ScriptEvaluateAsync(RedisScripts.Get, getKeys, [0, 10_000, channel, 1]))!;
            _ = int.Parse((string)taken[1]!);
        });
        return items / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> AddInFlightAsync(BrokerContext broker, int ops)
    {
        var value = new Value<long>(0, broker: broker);
        await value.GetAsync();
        var clock = Stopwatch.StartNew();
        await SideBySideAsync(ops, _ => value.AddAsync(1).AsTask());
        return ops / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> RawAddInFlightAsync(IDatabase db, int ops)
    {
        RedisKey key = $"broker:v:{{raw-{Guid.NewGuid():N}}}";
        var clock = Stopwatch.StartNew();
        await SideBySideAsync(ops, _ => db.StringIncrementAsync(key, 1));
        return ops / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Runs <paramref name="call"/> for 0 to <paramref name="count"/> - 1 in <see cref="InFlight"/> callers,
    /// each awaiting its calls one at a time.</summary>
    private static Task SideBySideAsync(int count, Func<int, Task> call) =>
        Task.WhenAll(Enumerable.Range(0, InFlight).Select(async caller =>
        {
            for (var i = caller; i < count; i += InFlight)
            {
                await call(i);
            }
        }));
}
