namespace Broker.Bench;

/// <summary><c>dotnet run -c Release --project bench -- local</c>: one line per case, ending in <c>ratio=</c>
/// (Broker's figure over the reference's; for times, the reference's over Broker's, so higher is better).</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args is not [var bench, .. var rest] || bench is not ("local" or "redis" or "rabbitmq" or "pool"))
        {
            Console.Error.WriteLine("usage: Broker.Bench local [--repeats 5] [--items 20000] [--cycles 20000] [--runs 20] [--round-trips 2000]");
            Console.Error.WriteLine("       Broker.Bench redis [--url redis://127.0.0.1:6379] [--repeats 5] [--items 5000]");
            Console.Error.WriteLine("       Broker.Bench rabbitmq [--url amqp://127.0.0.1:5672/] [--repeats 5] [--items 10000]");
            Console.Error.WriteLine("       Broker.Bench pool [--url redis://127.0.0.1:6379] [--amqp amqp://127.0.0.1:5672/] [--repeats 5] [--items 4000]");
            Console.Error.WriteLine("       each takes --json FILE too: every figure, with the machine's cores and load");
            return 2;
        }
        if (bench is "local" or "pool" && Python.Missing() is { } missing)
        {
            Console.Error.WriteLine(missing);
            return 1;
        }
        switch (bench)
        {
            case "local":
                await LocalBench.RunAsync(Options.Parse(rest));
                break;
            case "redis":
                await RedisBench.RunAsync(Options.Parse(rest, items: 5_000),
                    Options.Text(rest, "url") ?? Environment.GetEnvironmentVariable("BROKER_URL") ?? "redis://127.0.0.1:6379");
                break;
            case "rabbitmq":
                await RabbitMqBench.RunAsync(Options.Parse(rest, items: 10_000),
                    Options.Text(rest, "url") ?? Environment.GetEnvironmentVariable("BROKER_URL") ?? "amqp://127.0.0.1:5672/");
                break;
            default:
                await PoolBench.RunAsync(Options.Parse(rest, items: 4_000),
                    Options.Text(rest, "url") ?? Environment.GetEnvironmentVariable("BROKER_URL") ?? "redis://127.0.0.1:6379", Options.Text(rest, "amqp"));
                break;
        }
        Report.Close(args, Options.Text(rest, "json"));
        return 0;
    }
}

public sealed record Options(int Repeats, int Items, int Cycles, int Runs, int RoundTrips)
{
    public static Options Parse(string[] args, int items = 20_000)
    {
        int Get(string name, int fallback) => Text(args, name) is { } text ? int.Parse(text) : fallback;
        return new Options(Get("repeats", 5), Get("items", items), Get("cycles", 20_000), Get("runs", 20), Get("round-trips", 2_000));
    }

    public static string? Text(string[] args, string name) =>
        Array.IndexOf(args, "--" + name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

/// <summary>A fresh .NET process runs cold code at first and compiles hot code again, optimized, as it runs, which
/// Python's interpreter does not: a case runs untimed for a while before it is timed.</summary>
internal static class Warm
{
    /// <summary>Runs <paramref name="work"/> at least once, and again until <paramref name="milliseconds"/> have passed.</summary>
    public static void For(int milliseconds, Action work)
    {
        var warming = System.Diagnostics.Stopwatch.StartNew();
        do
        {
            work();
        }
        while (warming.ElapsedMilliseconds < milliseconds);
    }
}

/// <summary>Prints each figure as its case ends, and keeps it for the closing table and the <c>--json</c> file.</summary>
internal static class Report
{
    private static readonly List<Figure> s_figures = [];

    public static void Rate(string name, string unit, double broker, double reference, string referenceName)
    {
        Console.WriteLine($"{name,-44} broker={broker,10:N0} {unit}  {referenceName}={reference,10:N0} {unit}  ratio={broker / reference:F2}");
        s_figures.Add(new(name, unit, broker, reference, referenceName, broker / reference));
    }

    public static void Time(string name, double brokerMs, double referenceMs, string referenceName)
    {
        Console.WriteLine($"{name,-44} broker={brokerMs,8:F1} ms  {referenceName}={referenceMs,8:F1} ms  ratio={referenceMs / brokerMs:F2}");
        s_figures.Add(new(name, "ms", brokerMs, referenceMs, referenceName, referenceMs / brokerMs));
    }

    public static void Latency(string name, double brokerMs, double referenceMs, string referenceName)
    {
        Console.WriteLine($"{name,-44} broker={brokerMs * 1000,8:F0} µs  {referenceName}={referenceMs * 1000,8:F0} µs  ratio={referenceMs / brokerMs:F2}");
        s_figures.Add(new(name, "µs", brokerMs * 1000, referenceMs * 1000, referenceName, referenceMs / brokerMs));
    }

    /// <summary>Prints every figure of the run in one table and, given <paramref name="json"/>, writes them there with
    /// the machine's core count and load, so that runs on different days and machines can be compared.</summary>
    public static void Close(string[] args, string? json)
    {
        Console.WriteLine();
        Console.WriteLine($"| case | broker | reference | ratio |");
        Console.WriteLine($"|---|---|---|---|");
        foreach (var f in s_figures)
        {
            Console.WriteLine($"| {f.Case} | {f.Broker:N0} {f.Unit} | {f.ReferenceName} {f.Reference:N0} {f.Unit} | {f.Ratio:F2} |");
        }
        if (json is null)
        {
            return;
        }
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[..3].Select(double.Parse).ToArray() : [];
        var run = new
        {
            command = string.Join(' ', args),
            date = DateTimeOffset.UtcNow,
            machine = new { cores = Environment.ProcessorCount, load, os = System.Runtime.InteropServices.RuntimeInformation.OSDescription, runtime = Environment.Version.ToString() },
            figures = s_figures,
        };
        File.WriteAllText(json, System.Text.Json.JsonSerializer.Serialize(run, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"wrote {json}");
    }

    private sealed record Figure(string Case, string Unit, double Broker, double Reference, string ReferenceName, double Ratio);

    /// <summary>The times of the second of two passes of <paramref name="rounds"/> calls, in milliseconds.</summary>
    public static List<double> Times(int rounds, Action call)
    {
        var times = new List<double>(rounds);
        for (var pass = 0; pass < 2; pass++)
        {
            times.Clear();
            for (var i = 0; i < rounds; i++)
            {
                var began = System.Diagnostics.Stopwatch.GetTimestamp();
                call();
                times.Add(System.Diagnostics.Stopwatch.GetElapsedTime(began).TotalMilliseconds);
            }
        }
        return times;
    }

    /// <summary>The p50 and p99 of <paramref name="times"/>, as Python's side picks them.</summary>
    public static (double P50, double P99) Percentiles(IEnumerable<double> times)
    {
        var sorted = times.Order().ToList();
        return (sorted[sorted.Count / 2], sorted[(int)(sorted.Count * 0.99)]);
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
