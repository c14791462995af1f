using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Broker.Hosting;

/// <summary>Healthy while every broker of the context answers a round trip; unhealthy, with the reason, when one does
/// not answer within the check's timeout.</summary>
internal sealed class BrokerHealthCheck(BrokerContext broker) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken)
    {
        try
        {
            await broker.PingAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"{broker.Url} answers.");
        }
        catch (Exception e) when (e is BrokerException or OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"{broker.Url} did not answer: {e.Message}", e);
        }
    }
}
