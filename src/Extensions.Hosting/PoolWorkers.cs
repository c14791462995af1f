using Microsoft.Extensions.Hosting;

namespace Broker.Hosting;

/// <summary>A pool served while the host runs; stopping the host stops the workers, which give back what they hold.</summary>
internal sealed class PoolWorkers(BrokerContext broker, string pool, int? processes, int maxTasksPerChild) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Pool.ServeAsync(pool, processes, maxTasksPerChild, broker, stoppingToken);
}
