using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Broker.Hosting;

/// <summary>Healthy while every broker of the context answers a round trip and every pool the host serves has the
/// workers it asked for alive; degraded while a pool has fewer (a worker just ended, or its replacements keep ending);
/// unhealthy, with the reason, when a broker does not answer within the check's timeout.</summary>
internal sealed class BrokerHealthCheck(BrokerContext broker, IEnumerable<PoolWorkers> pools) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken)
    {
        try
        {
            await broker.PingAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is BrokerException or OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"{broker.Url} did not answer: {e.Message}", e);
        }
        var alive = pools.Any() ? AliveWorkers.Read() : [];
        var counts = pools.Select(p => (p.Pool, Alive: alive.GetValueOrDefault(p.Pool), p.Processes)).ToList();
        var description = string.Join("", counts.Select(c => $" Pool {c.Pool}: {c.Alive} of {c.Processes} workers alive."));
        return counts.Any(c => c.Alive < c.Processes)
            ? HealthCheckResult.Degraded($"{broker.Url} answers.{description}")
            : HealthCheckResult.Healthy($"{broker.Url} answers.{description}");
    }
}
