namespace Broker.Diagnostics;

/// <summary>The names Broker's spans and metrics go by, for a listener that subscribes without the
/// <c>Broker.OpenTelemetry</c> package: <c>AddSource(BrokerInstrumentation.ActivitySourceName)</c>.</summary>
public static class BrokerInstrumentation
{
    /// <summary>The <see cref="System.Diagnostics.ActivitySource"/> of puts, gets, task_done and pool tasks: <c>Broker</c>.</summary>
    public const string ActivitySourceName = "Broker";

    /// <summary>The <see cref="System.Diagnostics.Metrics.Meter"/> of Broker's counters, histograms and gauges: <c>Broker</c>.</summary>
    public const string MeterName = "Broker";

    /// <summary>The gauge of items waiting in each queue this process declared, by <c>messaging.destination.name</c>:
    /// <c>broker.queue.depth</c>.</summary>
    public const string QueueDepthMetric = "broker.queue.depth";

    /// <summary>The observable up-down counter of worker processes alive in each pool this process runs, by
    /// <see cref="PoolNameTag"/>: <c>broker.pool.workers</c>. The health check reads it to say a pool is degraded.</summary>
    public const string PoolWorkersMetric = "broker.pool.workers";

    /// <summary>The tag that names a pool on its metrics: <c>broker.pool.name</c>.</summary>
    public const string PoolNameTag = "broker.pool.name";
}
