using Broker.Transport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Broker.Hosting;

/// <summary>What <c>AddBroker</c> returns, to add transports and pool workers to the host.</summary>
public sealed class BrokerBuilder
{
    internal BrokerBuilder(IServiceCollection services) => Services = services;

    /// <summary>The host's services.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Serves URLs of <paramref name="factory"/>'s schemes with it, before the transports that packages
    /// install (a transport built with options of its own, such as a shared connection).</summary>
    public BrokerBuilder AddTransport(ITransportFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Services.AddSingleton(factory);
        return this;
    }

    /// <summary>Serves the pool named <paramref name="pool"/> with worker processes of this machine while the host runs,
    /// as <see cref="Pool.ServeAsync"/> does: clients anywhere submit to it with <c>new Pool(0, name: pool)</c>. When
    /// the host stops (SIGTERM, Ctrl-C), its workers give back the tasks in flight, which other hosts then run.</summary>
    /// <param name="pool">The pool's name, shared with its clients.</param>
    /// <param name="processes">Worker processes; the number of cores by default.</param>
    /// <param name="maxTasksPerChild">Tasks a worker runs before a fresh one replaces it; 0 for no limit.</param>
    public BrokerBuilder AddPoolWorkers(string pool, int? processes = null, int maxTasksPerChild = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pool);
        ArgumentOutOfRangeException.ThrowIfNegative(maxTasksPerChild);
        if (processes is { } count)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count, nameof(processes));
        }
        Services.AddSingleton<IHostedService>(services => new PoolWorkers(services.GetRequiredService<BrokerContext>(), pool, processes, maxTasksPerChild));
        return this;
    }
}
