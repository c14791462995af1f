using Broker.Diagnostics;

namespace OpenTelemetry.Metrics;

/// <summary>Subscribes a meter provider to Broker's metrics.</summary>
public static class BrokerMeterProviderBuilderExtensions
{
    /// <summary>Records Broker's metrics (the meter <see cref="BrokerInstrumentation.MeterName"/>): items sent and
    /// consumed, redeliveries, dead letters, queue depth, pool tasks started, completed, failed and retried, their
    /// durations, and the pool workers alive.</summary>
    public static MeterProviderBuilder AddBrokerInstrumentation(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddMeter(BrokerInstrumentation.MeterName);
    }
}
