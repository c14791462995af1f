namespace Broker.Diagnostics;

/// <summary>The names Broker's spans and metrics go by, for a listener that subscribes without the
/// <c>Broker.OpenTelemetry</c> package: <c>AddSource(BrokerInstrumentation.ActivitySourceName)</c>.</summary>
public static class BrokerInstrumentation
{
    /// <summary>The <see cref="System.Diagnostics.ActivitySource"/> of puts, gets, task_done and pool tasks: <c>Broker</c>.</summary>
    public const string ActivitySourceName = "Broker";

    /// <summary>The <see cref="System.Diagnostics.Metrics.Meter"/> of Broker's counters, histograms and gauges: <c>Broker</c>.</summary>
    public const string MeterName = "Broker";
}
