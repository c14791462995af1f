namespace Broker.Bench;

using System.Diagnostics;
using System.Globalization;
using Broker;
using Process = Broker.Process;

/// <summary>The local transport against Python's multiprocessing, the same work on the same machine: a consumer
/// process fed by the parent, a joinable queue drained and joined, four processes incrementing a value under its
/// lock, four setting and reading a Manager's dictionary, and a process started and joined. Each figure is the median of the repeats. A fresh .NET process runs cold
/// code at first and compiles hot code again as it runs, which Python's interpreter does not: the queues carry their
/// items twice and time the second pass, in both languages, and each lock-and-value process warms on a value and a
/// start signal of its own first.</summary>
public static class LocalBench
{
    public static async Task RunAsync(Options options)
    {
        var python = Python.Run("local.py", [options.Repeats, options.Items, options.Cycles, options.Runs, options.RoundTrips]);
        Console.WriteLine($"local transport vs Python multiprocessing, median of {options.Repeats} runs, {Environment.ProcessorCount} cores");

        var queue = await MedianAsync(options.Repeats, () => QueueRateAsync(options.Items));
        Report.Rate("Queue 1 producer -> 1 consumer process", "items/s", queue, python["queue"], "python");

        foreach (var consumers in (int[])[1, 2, 4])
        {
            var shared = await MedianAsync(options.Repeats, () => SharedQueueRateAsync(consumers, options.Items));
            Report.Rate($"Queue 1 producer -> {consumers} consumer{(consumers == 1 ? "" : "s")}, shared", "items/s", shared, python[$"scale{consumers}"], "python");
        }

        var joinable = await MedianAsync(options.Repeats, () => JoinableRateAsync(options.Items));
        Report.Rate("JoinableQueue put/get/task_done + join", "items/s", joinable, python["joinable"], "python");

        var locked = await MedianAsync(options.Repeats, () => LockRateAsync(4, options.Cycles));
        Report.Rate("Lock + Value increment, 4 processes", "cycles/s", locked, python["lock"], "python");

        var dict = await MedianAsync(options.Repeats, () => DictRateAsync(4, options.Cycles / 10));
        Report.Rate("Manager dict set + get, 4 processes", "pairs/s", dict, python["manager"], "python");

        var (pipeP50, pipeP99) = await RoundTripsAsync(options.RoundTrips, PipeRoundTrips);
        Report.Latency("Pipe send/recv round trip, p50", pipeP50, python["pipe_p50"], "python");
        Report.Latency("Pipe send/recv round trip, p99", pipeP99, python["pipe_p99"], "python");
        var (bytesP50, bytesP99) = await RoundTripsAsync(options.RoundTrips, BytesRoundTrips);
        Report.Latency("Pipe send_bytes/recv_bytes round trip, p50", bytesP50, python["bytes_p50"], "python");
        Report.Latency("Pipe send_bytes/recv_bytes round trip, p99", bytesP99, python["bytes_p99"], "python");
        var (eventP50, eventP99) = await RoundTripsAsync(options.RoundTrips, EventRoundTrips);
        Report.Latency("Event set -> wake in another process, p50", eventP50, python["event_p50"], "python");
        Report.Latency("Event set -> wake in another process, p99", eventP99, python["event_p99"], "python");

        var start = await StartJoinMsAsync(options.Runs);
        Report.Time("Process start + join (vs fork)", start, python["start_fork"], "python");
        Report.Time("Process start + join (vs spawn)", start, python["start_spawn"], "python");
    }

    private static async Task<double> MedianAsync(int repeats, Func<Task<double>> measure)
    {
        var results = new List<double>();
        for (var i = 0; i < repeats; i++)
        {
            results.Add(await measure());
        }
        return Report.Median(results);
    }

    private static async Task<double> QueueRateAsync(int items)
    {
        var queue = new Queue<int>();
        var done = new Queue<string>();
        await using var consumer = new Process(Consume, queue, items, done);
        await consumer.StartAsync();
        await PutAllAsync(queue, items);
        await done.GetAsync();
        var clock = Stopwatch.StartNew();
        await PutAllAsync(queue, items);
        await done.GetAsync();
        var rate = items / clock.Elapsed.TotalSeconds;
        await consumer.JoinAsync();
        return rate;
    }

    /// <summary>The scale case: <paramref name="consumers"/> processes take <paramref name="items"/> from one queue
    /// between them; each stops at a -1 and waits to be told to go on, so that none takes another's -1.</summary>
    private static async Task<double> SharedQueueRateAsync(int consumers, int items)
    {
        var queue = new Queue<int>();
        var done = new Queue<string>();
        var go = new Queue<string>();
        var processes = Enumerable.Range(0, consumers).Select(_ => new Process(ConsumeUntilStopped, queue, done, go)).ToList();
        foreach (var process in processes)
        {
            await process.StartAsync();
        }
        await PassAsync();
        for (var i = 0; i < consumers; i++)
        {
            await go.PutAsync("timed");
        }
        var clock = Stopwatch.StartNew();
        await PassAsync();
        var rate = items / clock.Elapsed.TotalSeconds;
        foreach (var process in processes)
        {
            await process.JoinAsync();
            await process.DisposeAsync();
        }
        return rate;

        async Task PassAsync()
        {
            await PutAllAsync(queue, items);
            for (var i = 0; i < consumers; i++)
            {
                await queue.PutAsync(-1);
            }
            for (var i = 0; i < consumers; i++)
            {
                await done.GetAsync();
            }
        }
    }

    private static async Task<double> JoinableRateAsync(int items)
    {
        var queue = new JoinableQueue<int>();
        var ready = new Queue<string>();
        await using var consumer = new Process(ConsumeJoinable, queue, ready) { Daemon = true };
        await consumer.StartAsync();
        await ready.GetAsync();
        await PutAllAsync(queue, items);
        await queue.JoinAsync();
        var clock = Stopwatch.StartNew();
        await PutAllAsync(queue, items);
        await queue.JoinAsync();
        return items / clock.Elapsed.TotalSeconds;
    }

    private static async Task PutAllAsync(Queue<int> queue, int items)
    {
        for (var i = 0; i < items; i++)
        {
            await queue.PutAsync(i);
        }
    }

    private static async Task<double> LockRateAsync(int processes, int cycles)
    {
        var value = new Value<int>(0);
        var elapsed = await TimeTogetherAsync(processes, (_, ready, go, warm) => new Process(Increment, value, cycles, ready, go, warm));
        var final = await value.GetAsync();
        return final == processes * cycles
            ? processes * cycles / elapsed.TotalSeconds
            : throw new InvalidOperationException($"Lost updates: {final} of {processes * cycles}.");
    }

    /// <summary>A Manager's dictionary set then read, each of <paramref name="processes"/> on keys of its own.</summary>
    private static async Task<double> DictRateAsync(int processes, int pairs)
    {
        await using var manager = new Manager();
        var dict = manager.Dict<string, int>();
        var elapsed = await TimeTogetherAsync(processes, (worker, ready, go, warm) => new Process(SetAndGet, dict, worker, pairs, ready, go, warm));
        return processes * pairs / elapsed.TotalSeconds;
    }

    /// <summary>Starts the workers <paramref name="worker"/> makes, lets each warm up and say it is ready, then times
    /// them from one go to the last one's end.</summary>
    private static async Task<TimeSpan> TimeTogetherAsync(int processes, Func<int, Queue<int>, Queue<int>, Queue<int>, Process> worker)
    {
        var ready = new Queue<int>();
        var go = new Queue<int>();
        var warm = new Queue<int>();
        var workers = Enumerable.Range(0, processes).Select(i => worker(i, ready, go, warm)).ToList();
        foreach (var process in workers)
        {
            await warm.PutAsync(0);
            await process.StartAsync();
        }
        foreach (var _ in workers)
        {
            await ready.GetAsync();
        }
        var clock = Stopwatch.StartNew();
        foreach (var _ in workers)
        {
            await go.PutAsync(1);
        }
        foreach (var process in workers)
        {
            await process.JoinAsync();
            await process.DisposeAsync();
        }
        return clock.Elapsed;
    }

    /// <summary>The p50 and p99, in milliseconds, of the second of two passes of <paramref name="rounds"/> round
    /// trips with a child process, each made by <paramref name="measure"/>.</summary>
    private static async Task<(double P50, double P99)> RoundTripsAsync(int rounds, Func<int, Task<List<double>>> measure)
    {
        return Report.Percentiles(await measure(rounds));
    }

    private static Task<List<double>> PipeRoundTrips(int rounds) => PipeRoundTripsAsync(rounds, end =>
    {
        end.Send("ping");
        end.Recv<string>();
    });

    private static Task<List<double>> BytesRoundTrips(int rounds)
    {
        var message = "ping"u8.ToArray();
        return PipeRoundTripsAsync(rounds, end =>
        {
            end.SendBytes(message);
            end.RecvBytes();
        });
    }

    private static async Task<List<double>> PipeRoundTripsAsync(int rounds, Action<Connection> roundTrip)
    {
        var (mine, theirs) = Pipe.Create();
        await using var echo = new Process(Echo, theirs) { Daemon = true };
        await echo.StartAsync();
        var times = Report.Times(rounds, () => roundTrip(mine));
        mine.Close();
        await echo.JoinAsync();
        return times;
    }

    /// <summary>A round trip is two set-to-wake latencies: the parent sets <c>ping</c>, the child wakes, clears it
    /// and sets <c>pong</c>, the parent wakes and clears that; half of it is reported.</summary>
    private static async Task<List<double>> EventRoundTrips(int rounds)
    {
        var ping = new Event();
        var pong = new Event();
        await using var child = new Process(Pong, ping, pong, 2 * rounds) { Daemon = true };
        await child.StartAsync();
        var times = Report.Times(rounds, () =>
        {
            ping.Set();
            pong.Wait();
            pong.Clear();
        }).Select(t => t / 2).ToList();
        await child.JoinAsync();
        return times;
    }

    public static void Echo(Connection end)
    {
        try
        {
            while (true)
            {
                end.SendBytes(end.RecvBytes());
            }
        }
        catch (EndOfStreamException)
        {
        }
    }

    public static void Pong(Event ping, Event pong, int rounds)
    {
        for (var i = 0; i < rounds; i++)
        {
            ping.Wait();
            ping.Clear();
            pong.Set();
        }
    }

    private static async Task<double> StartJoinMsAsync(int runs)
    {
        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            await using var child = new Process(Nothing);
            await child.StartAsync();
            await child.JoinAsync();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return Report.Median(times);
    }

    public static void Consume(Queue<int> queue, int items, Queue<string> done)
    {
        foreach (var pass in (string[])["warm", "timed"])
        {
            for (var i = 0; i < items; i++)
            {
                queue.Get();
            }
            done.Put(pass);
        }
    }

    public static void ConsumeUntilStopped(Queue<int> queue, Queue<string> done, Queue<string> go)
    {
        while (queue.Get() != -1)
        {
        }
        done.Put("warm");
        go.Get();
        while (queue.Get() != -1)
        {
        }
        done.Put("timed");
    }

    public static async Task ConsumeJoinable(JoinableQueue<int> queue, Queue<string> ready)
    {
        await ready.PutAsync("ready");
        while (true)
        {
            await queue.GetAsync();
            await queue.TaskDoneAsync();
        }
    }

    public static void Increment(Value<int> value, int cycles, Queue<int> ready, Queue<int> go, Queue<int> warm)
    {
        // Warmed (see the class's summary) on a value of its own, as the pool bench warms its workers, for long enough
        // that the runtime has compiled the loop again, optimized; and on a start signal of its own, taken from a queue
        // of its own, as a get may bring more items ahead.
        var own = new Value<int>(0);
        Warm.For(WarmMs, () => IncrementUnderLock(own, cycles));
        warm.Get();
        ready.Put(1);
        go.Get();
        IncrementUnderLock(value, cycles);
    }

    public static void SetAndGet(DictProxy<string, int> dict, int worker, int pairs, Queue<int> ready, Queue<int> go, Queue<int> warm)
    {
        var own = new DictProxy<string, int>();
        Warm.For(WarmMs, () => SetAndGetAll(own, worker, pairs));
        warm.Get();
        ready.Put(1);
        go.Get();
        SetAndGetAll(dict, worker, pairs);
    }

    private static void SetAndGetAll(DictProxy<string, int> dict, int worker, int pairs)
    {
        for (var i = 0; i < pairs; i++)
        {
            var key = $"{worker}-{i % 100}";
            dict[key] = i;
            if (dict[key] != i)
            {
                throw new InvalidOperationException($"Key {key} lost its value.");
            }
        }
    }

    /// <summary>Longer than the runtime's 100 ms delay before it optimizes hot code, and its compiling.</summary>
    private const int WarmMs = 500;

    private static void IncrementUnderLock(Value<int> value, int cycles)
    {
        var @lock = value.GetLock();
        for (var i = 0; i < cycles; i++)
        {
            using (@lock.EnterScope())
            {
                value.Set(value.Get() + 1);
            }
        }
    }

    public static void Nothing()
    {
    }
}
