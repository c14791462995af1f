namespace Broker.Conformance;

using System.Diagnostics;
using Broker;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

/// <summary>What a traced child runs: a start-up that records Broker's spans in memory, as a service's would export
/// them, and a target that reports the spans it recorded.</summary>
public static class ChildTracing
{
    private static readonly List<Activity> s_spans = [];
    private static readonly List<MetricSnapshot> s_metrics = [];
    private static MeterProvider? s_meters;

    /// <summary>A <see cref="BrokerOptions.ChildStartup"/>: Broker's spans and metrics, kept by the in-memory exporter.</summary>
    public static IDisposable? Start()
    {
        s_meters = Sdk.CreateMeterProviderBuilder().AddBrokerInstrumentation().AddInMemoryExporter(s_metrics).Build();
        return Sdk.CreateTracerProviderBuilder().AddBrokerInstrumentation().AddInMemoryExporter(s_spans).Build();
    }

    /// <summary>The pool tasks this worker counted started, completed and failed, and the durations it recorded, for
    /// the pool whose queue is <paramref name="queue"/>.</summary>
    [PoolTask]
    public static long[] TasksCounted(string queue)
    {
        s_meters!.ForceFlush();
        return [.. new[] { "broker.pool.tasks.started", "broker.pool.tasks.completed", "broker.pool.tasks.failed", "broker.pool.task.duration" }
            .Select(name => Measured.Total(s_metrics, name, queue))];
    }

    /// <summary>Takes an item from <paramref name="inbox"/>, and reports the trace and parent span of the get's span
    /// as this child recorded it.</summary>
    public static void ReportGetSpan(Queue<string> inbox, Queue<string[]> reports)
    {
        inbox.Get(timeout: TimeSpan.FromSeconds(30));
        var get = s_spans.Single(span => span.DisplayName == $"receive {inbox.Name}");
        reports.Put([get.TraceId.ToString(), get.ParentSpanId.ToString()]);
    }
}
