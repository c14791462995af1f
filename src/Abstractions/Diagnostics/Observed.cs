using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Broker.Diagnostics;

/// <summary>The gauges a collector reads when it collects: the depth of each queue this process declared, and the
/// workers alive in each pool it runs. Contexts and pools register while they are open.</summary>
internal static class Observed
{
    /// <summary>How long one collection waits for the brokers to count their queues; a queue not counted by then is
    /// left out of that collection.</summary>
    private static readonly TimeSpan s_countFor = TimeSpan.FromSeconds(2);

    private static readonly ConcurrentDictionary<BrokerContext, byte> s_contexts = new();
    private static readonly ConcurrentDictionary<Pool, byte> s_pools = new();

    static Observed()
    {
        Telemetry.Meter.CreateObservableGauge(BrokerInstrumentation.QueueDepthMetric, QueueDepths, "{message}",
            "Items waiting in each queue this process declared.");
        Telemetry.Meter.CreateObservableUpDownCounter(BrokerInstrumentation.PoolWorkersMetric, AliveWorkers, "{process}",
            "Worker processes alive in each pool this process runs.");
    }

    public static void Add(BrokerContext context) => s_contexts.TryAdd(context, 0);

    public static void Remove(BrokerContext context) => s_contexts.TryRemove(context, out _);

    public static void Add(Pool pool) => s_pools.TryAdd(pool, 0);

    public static void Remove(Pool pool) => s_pools.TryRemove(pool, out _);

    private static IEnumerable<Measurement<long>> QueueDepths()
    {
        var counting = s_contexts.Keys
            .SelectMany(context => context.DeclaredQueues.Select(queue => (Context: context, Queue: queue,
                Count: context.Queues.CountAsync(queue, CancellationToken.None).AsTask())))
            .ToList();
        // A collector calls from its own thread, synchronously: it waits here, for a bounded time.
        Task.WhenAll(counting.Select(c => (Task)c.Count)).ContinueWith(static _ => { }, TaskScheduler.Default).Wait(s_countFor);
        return counting.Where(c => c.Count.IsCompletedSuccessfully)
            .Select(c => new Measurement<long>(c.Count.Result, Telemetry.Tags(c.Context, c.Queue)));
    }

    private static IEnumerable<Measurement<int>> AliveWorkers() =>
        s_pools.Keys.Select(pool => new Measurement<int>(pool.AliveWorkers, new KeyValuePair<string, object?>(BrokerInstrumentation.PoolNameTag, pool.Name)));
}
