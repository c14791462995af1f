using Broker.Hosting;
using Broker.Transport.RabbitMq;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>RabbitMQ in a host: <c>services.AddBroker(...).AddRabbitMq(options)</c>.</summary>
public static class RabbitMqBrokerBuilderExtensions
{
    /// <summary>Serves <c>amqp://</c> and <c>amqps://</c> URLs with <paramref name="options"/> (the connection
    /// factory's settings, prefetch); without them the package serves those URLs already.</summary>
    public static BrokerBuilder AddRabbitMq(this BrokerBuilder builder, RabbitMqTransportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddTransport(new RabbitMqTransportFactory(options ?? new RabbitMqTransportOptions()));
    }
}
