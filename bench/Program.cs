namespace Broker.Bench;

/// <summary><c>dotnet run -c Release --project bench -- local</c>: one line per case, ending in <c>ratio=</c>
/// (Broker's figure over the reference's; for times, the reference's over Broker's, so higher is better).</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        switch (args)
        {
            case ["local", .. var rest]:
                await LocalBench.RunAsync(Options.Parse(rest));
                return 0;
            case ["redis", .. var rest]:
                await RedisBench.RunAsync(Options.Parse(rest, items: 5_000),
                    Options.Text(rest, "url") ?? Environment.GetEnvironmentVariable("BROKER_URL") ?? "redis://127.0.0.1:6379");
                return 0;
            case ["rabbitmq", .. var rest]:
                await RabbitMqBench.RunAsync(Options.Parse(rest, items: 10_000),
                    Options.Text(rest, "url") ?? Environment.GetEnvironmentVariable("BROKER_URL") ?? "amqp://127.0.0.1:5672/");
                return 0;
            case ["pool", .. var rest]:
                await PoolBench.RunAsync(Options.Parse(rest, items: 4_000),
                    Options.Text(rest, "url") ?? Environment.GetEnvironmentVariable("BROKER_URL") ?? "redis://127.0.0.1:6379", Options.Text(rest, "amqp"));
                return 0;
            default:
                Console.Error.WriteLine("usage: Broker.Bench local [--repeats 5] [--items 20000] [--cycles 20000] [--runs 20] [--round-trips 2000]");
                Console.Error.WriteLine("       Broker.Bench redis [--url redis://127.0.0.1:6379] [--repeats 5] [--items 5000]");
                Console.Error.WriteLine("       Broker.Bench rabbitmq [--url amqp://127.0.0.1:5672/] [--repeats 5] [--items 10000]");
                Console.Error.WriteLine("       Broker.Bench pool [--url redis://127.0.0.1:6379] [--amqp amqp://127.0.0.1:5672/] [--repeats 5] [--items 4000]");
                return 2;
        }
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

internal static class Report
{
    public static void Rate(string name, string unit, double broker, double reference, string referenceName) =>
        Console.WriteLine($"{name,-44} broker={broker,10:N0} {unit}  {referenceName}={reference,10:N0} {unit}  ratio={broker / reference:F2}");

    public static void Time(string name, double brokerMs, double referenceMs, string referenceName) =>
        Console.WriteLine($"{name,-44} broker={brokerMs,8:F1} ms  {referenceName}={referenceMs,8:F1} ms  ratio={referenceMs / brokerMs:F2}");

    public static void Latency(string name, double brokerMs, double referenceMs, string referenceName) =>
        Console.WriteLine($"{name,-44} broker={brokerMs * 1000,8:F0} µs  {referenceName}={referenceMs * 1000,8:F0} µs  ratio={referenceMs / brokerMs:F2}");

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
