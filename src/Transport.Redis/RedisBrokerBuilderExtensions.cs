using Broker.Hosting;
using Broker.Transport.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Redis in a host: <c>services.AddBroker(...).AddRedis(options)</c>.</summary>
public static class RedisBrokerBuilderExtensions
{
    /// <summary>Serves <c>redis://</c> and <c>rediss://</c> URLs with <paramref name="options"/> (the application's
    /// own multiplexer, TLS certificates, leases); without them the package serves those URLs already.</summary>
    public static BrokerBuilder AddRedis(this BrokerBuilder builder, RedisTransportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddTransport(new RedisTransportFactory(options ?? new RedisTransportOptions()));
    }
}
