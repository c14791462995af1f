using Broker;
using Broker.Hosting;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Pools served by the host: <c>services.AddBroker(...).AddPoolWorkers("jobs", processes: 4)</c>.</summary>
public static class PoolWorkersBuilderExtensions
{
    /// <summary>Serves the pool named <paramref name="pool"/> with worker processes of this machine while the host runs,
    /// as <see cref="Pool.ServeAsync"/> does: clients anywhere submit to it with <c>new Pool(0, name: pool)</c>. When
    /// the host stops (SIGTERM, Ctrl-C), its workers give back the tasks in flight, which other hosts then run.</summary>
    /// <param name="builder">What <c>AddBroker</c> returned.</param>
    /// <param name="pool">The pool's name, shared with its clients.</param>
    /// <param name="processes">Worker processes; the number of cores by default.</param>
    /// <param name="maxTasksPerChild">Tasks a worker runs before a fresh one replaces it; 0 for no limit.</param>
    public static BrokerBuilder AddPoolWorkers(this BrokerBuilder builder, string pool, int? processes = null, int maxTasksPerChild = 0)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(pool);
        ArgumentOutOfRangeException.ThrowIfNegative(maxTasksPerChild);
        if (processes is { } count)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count, nameof(processes));
        }
        // Registered as itself too, so that the health check finds the pools the host serves; the hosted service is the
        // same instance, found by its place among them.
        var index = builder.Services.Count(service => service.ServiceType == typeof(PoolWorkers));
        builder.Services.AddSingleton(services => new PoolWorkers(services.GetRequiredService<BrokerContext>(), pool, processes, maxTasksPerChild));
        builder.Services.AddSingleton<IHostedService>(services => services.GetServices<PoolWorkers>().ElementAt(index));
        return builder;
    }
}
