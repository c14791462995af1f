using Broker;
using Broker.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Broker's health check: <c>services.AddHealthChecks().AddBroker()</c>.</summary>
public static class BrokerHealthChecksBuilderExtensions
{
    /// <summary>Checks that every broker of the host's <see cref="BrokerContext"/> (see <c>AddBroker</c>) answers a
    /// round trip within <paramref name="timeout"/> (5 seconds by default), unhealthy with the reason otherwise, and
    /// that each pool of <c>AddPoolWorkers</c> has the workers it asked for alive, degraded otherwise.</summary>
    /// <param name="builder">The host's health checks.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="timeout">How long a broker has to answer.</param>
    /// <param name="tags">Tags to filter checks by, such as <c>"ready"</c>.</param>
    public static IHealthChecksBuilder AddBroker(this IHealthChecksBuilder builder, string name = "broker", TimeSpan? timeout = null,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(name, services => new BrokerHealthCheck(services.GetRequiredService<BrokerContext>(), services.GetServices<PoolWorkers>()),
            HealthStatus.Unhealthy, tags, timeout ?? TimeSpan.FromSeconds(5)));
    }
}
