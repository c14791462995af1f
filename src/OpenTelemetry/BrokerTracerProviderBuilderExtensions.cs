using Broker.Diagnostics;

namespace OpenTelemetry.Trace;

/// <summary>Subscribes a tracer provider to Broker, as <c>AddAspNetCoreInstrumentation()</c> does to ASP.NET Core.</summary>
public static class BrokerTracerProviderBuilderExtensions
{
    /// <summary>Records the spans of Broker's puts, gets, task_done calls and pool tasks (the source
    /// <see cref="BrokerInstrumentation.ActivitySourceName"/>). A span's context travels inside each item and task,
    /// so a consumer's and a pool worker's spans join the producer's trace, in any process that records them too.</summary>
    public static TracerProviderBuilder AddBrokerInstrumentation(this TracerProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddSource(BrokerInstrumentation.ActivitySourceName);
    }
}
