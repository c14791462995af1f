using Microsoft.Extensions.Hosting;

namespace Broker.Hosting;

/// <summary>A pool served while the host runs; stopping the host stops the workers, which give back what they hold.</summary>
internal sealed class PoolWorkers(BrokerContext broker, string pool, int? processes, int maxTasksPerChild) : BackgroundService
{
    /// <summary>The pool's name, which its clients share.</summary>
    public string Pool => pool;

    /// <summary>The worker processes asked for.</summary>
    public int Processes { get; } = processes ?? Environment.ProcessorCount;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Broker.Pool.ServeAsync(pool, Processes, maxTasksPerChild, broker, stoppingToken);
}
