namespace Broker.Bench;

using System.Diagnostics;
using System.Globalization;
using Broker;
using Process = Broker.Process;

/// <summary>Pools: Broker's local Pool(2) against Python's Pool(2) (apply_async, map with chunksize 1 and the
/// default, and the p50 and p99 of one apply after another), and fleets (a worker host with 2 workers, a client with none) on Redis and on RabbitMQ against Celery 5
/// doing the same trivial tasks with results through the same broker (Celery's results on Redis): Broker's default
/// (a worker takes one message of tasks per get) and the prefetch Celery has by default. Medians of the repeats, each case
/// warmed first.</summary>
public static class PoolBench
{
    public static async Task RunAsync(Options options, string redisUrl, string? amqpUrl)
    {
        var python = Python.Run("pool.py", [options.Repeats, options.Items]);
        Console.WriteLine($"Pool(2): Broker local vs Python multiprocessing, median of {options.Repeats} runs of {options.Items} tasks");
        await using (var pool = new Pool(2))
        {
            Report.Rate("Pool.ApplyAsync", "tasks/s", Median(options, () => Apply(pool, options.Items)), python["apply"], "python");
            Report.Rate("Pool.Map, chunksize 1", "items/s", Median(options, () => Map(pool, options.Items, 1)), python["map1"], "python");
            Report.Rate("Pool.Map, default chunksize", "items/s", Median(options, () => Map(pool, options.Items, null)), python["map"], "python");
            var (applyP50, applyP99) = Report.Percentiles(Report.Times(options.Items / 4, () => pool.Apply<int>(Square, 1)));
            Report.Latency("Pool.Apply round trip, p50", applyP50, python["apply_p50"], "python");
            Report.Latency("Pool.Apply round trip, p99", applyP99, python["apply_p99"], "python");
        }

        if (Python.Missing("celery", "redis") is { } missing)
        {
            Console.WriteLine($"Fleet cases against Celery skipped: {missing}");
            return;
        }
        var fleetTasks = options.Items / 2;
        foreach (var url in new[] { redisUrl, amqpUrl }.OfType<string>())
        {
            Console.WriteLine($"Fleet on {BrokerUrl.Redact(url)}: a worker host with 2 workers, a client with none, vs Celery 5 " +
                $"(2 prefork workers, prefetch 4 each); {fleetTasks} tasks with results");
            var takeOne = await FleetAsync(options, fleetTasks, url);
            var prefetched = await FleetAsync(options, fleetTasks, WithPrefetch(url, 4));
            var celery = Celery(options, url, $"{redisUrl.TrimEnd('/')}/1", fleetTasks);
            var scheme = new Uri(url).Scheme;
            Report.Rate($"Fleet on {scheme}, one message per get (vs Celery)", "tasks/s", takeOne, celery, "celery");
            Report.Rate($"Fleet on {scheme}, ?prefetch=4 as Celery (vs Celery)", "tasks/s", prefetched, celery, "celery");
        }
    }

    /// <summary>Broker's fleet: a worker host serving a named pool with 2 workers, and a client pool with none.</summary>
    private static async Task<double> FleetAsync(Options options, int tasks, string url)
    {
        await using var broker = BrokerContext.Connect(url);
        var name = $"bench-{Guid.NewGuid():N}";
        using var stopHost = new CancellationTokenSource();
        var host = Pool.ServeAsync(name, 2, broker: broker, cancellationToken: stopHost.Token);
        double rate;
        await using (var client = new Pool(0, name: name, broker: broker))
        {
            rate = Median(options, () => Apply(client, tasks));
        }
        stopHost.Cancel();
        await host;
        return rate;
    }

    /// <summary>Celery's worker reserves 4 tasks per process by default (worker_prefetch_multiplier): this is the
    /// same setting for Broker's workers.</summary>
    private static string WithPrefetch(string url, int prefetch) =>
        url.Contains("prefetch=", StringComparison.Ordinal) ? url : $"{url}{(url.Contains('?') ? '&' : '?')}prefetch={prefetch}";

    [PoolTask]
    public static int Square(int x) => x * x;

    private static double Apply(Pool pool, int n)
    {
        var clock = Stopwatch.StartNew();
        var results = Enumerable.Range(0, n).Select(i => pool.ApplyAsync<int>(Square, [i])).ToList();
        results.ForEach(r => r.Get());
        return n / clock.Elapsed.TotalSeconds;
    }

    private static double Map(Pool pool, int n, int? chunksize)
    {
        var clock = Stopwatch.StartNew();
        pool.Map(Square, Enumerable.Range(0, n), chunksize);
        return n / clock.Elapsed.TotalSeconds;
    }

    /// <summary>How long each case runs untimed first (see <see cref="Warm"/>): fresh workers, and a client's first
    /// calls, take seconds to be compiled again. Python's cases run once untimed.</summary>
    private const int WarmMs = 3_000;

    private static double Median(Options options, Func<double> measure)
    {
        Warm.For(WarmMs, () => measure());
        return Report.Median(Enumerable.Range(0, options.Repeats).Select(_ => measure()).ToList());
    }

    /// <summary>Starts a Celery worker (2 prefork processes) on the same broker, runs the client, stops the worker.</summary>
    private static double Celery(Options options, string brokerUrl, string backendUrl, int tasks)
    {
        var scripts = Path.Combine(AppContext.BaseDirectory, "python");
        // Celery reads a Redis broker's database from the path, as Broker does not: keep Celery's keys apart.
        // Broker's own settings (?prefetch=) mean nothing to Celery.
        var celeryBroker = brokerUrl.StartsWith("redis", StringComparison.Ordinal) ? backendUrl : brokerUrl.Split('?')[0];
        var environment = new Dictionary<string, string> { ["BENCH_BROKER"] = celeryBroker, ["BENCH_BACKEND"] = backendUrl };
        var worker = new ProcessStartInfo(Python.Interpreter) { WorkingDirectory = scripts, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { "-m", "celery", "-A", "celery_bench", "worker", "--concurrency", "2", "--pool", "prefork", "--loglevel", "WARNING" })
        {
            worker.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in environment)
        {
            worker.Environment[key] = value;
        }
        using var running = System.Diagnostics.Process.Start(worker)!;
        running.OutputDataReceived += (_, _) => { };
        running.ErrorDataReceived += (_, _) => { };
        running.BeginOutputReadLine();
        running.BeginErrorReadLine();
        try
        {
            return Python.Run("celery_bench.py", [options.Repeats, tasks], environment)["celery"];
        }
        finally
        {
            running.Kill(entireProcessTree: true);
            running.WaitForExit();
        }
    }
}

/// <summary>Runs one of the bench's Python scripts and reads its "case value" lines.</summary>
internal static class Python
{
    /// <summary>Debian's interpreter, which the <c>python3-celery</c> and <c>python3-redis</c> packages install into,
    /// whatever else is first on the path.</summary>
    public const string Interpreter = "/usr/bin/python3";

    /// <summary>Null when Debian's interpreter runs and imports <paramref name="modules"/>; else one line that says
    /// what to install.</summary>
    public static string? Missing(params string[] modules)
    {
        if (!File.Exists(Interpreter))
        {
            return $"{Interpreter} is missing: install Debian's python3 (apt-get install python3), which the bench compares against.";
        }
        if (modules.Length == 0)
        {
            return null;
        }
        var info = new ProcessStartInfo(Interpreter) { RedirectStandardError = true, RedirectStandardOutput = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("import " + string.Join(", ", modules));
        using var process = System.Diagnostics.Process.Start(info)!;
        process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0
            ? null
            : $"{Interpreter} cannot import {string.Join(", ", modules)}: install Debian's {string.Join(" and ", modules.Select(m => "python3-" + m))} (apt-get install {string.Join(' ', modules.Select(m => "python3-" + m))}).";
    }

    public static Dictionary<string, double> Run(string script, object[] args, Dictionary<string, string>? environment = null)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "python", script);
        var info = new ProcessStartInfo(Interpreter) { RedirectStandardOutput = true, WorkingDirectory = Path.GetDirectoryName(path)! };
        info.ArgumentList.Add(path);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(Convert.ToString(arg, CultureInfo.InvariantCulture)!);
        }
        foreach (var (key, value) in environment ?? [])
        {
            info.Environment[key] = value;
        }
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Interpreter} {script} failed with exit code {process.ExitCode}.");
        }
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' '))
            .ToDictionary(parts => parts[0], parts => double.Parse(parts[1], CultureInfo.InvariantCulture));
    }
}
