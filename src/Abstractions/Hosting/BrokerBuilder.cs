using Broker.Transport;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Hosting;

/// <summary>What <c>services.AddBroker(...)</c> (package Broker.Extensions.Hosting) returns: transports add themselves
/// to it (<c>.AddRedis()</c>, <c>.AddRabbitMq()</c>), and the host adds pool workers.</summary>
/// <param name="services">The host's services.</param>
public sealed class BrokerBuilder(IServiceCollection services)
{
    /// <summary>The host's services.</summary>
    public IServiceCollection Services { get; } = services ?? throw new ArgumentNullException(nameof(services));

    /// <summary>Serves URLs of <paramref name="factory"/>'s schemes with it, before the transports that packages
    /// install (a transport built with options of its own, such as a shared connection).</summary>
    public BrokerBuilder AddTransport(ITransportFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Services.AddSingleton(factory);
        return this;
    }
}
