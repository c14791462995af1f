using Broker.Transport;
using Broker.Transport.RabbitMq;
using Microsoft.Extensions.Logging;

[assembly: BrokerComponent(typeof(RabbitMqTransportFactory))]

namespace Broker.Transport.RabbitMq;

/// <summary>Serves <c>amqp://host[:port][/vhost]</c> and <c>amqps://</c>, with any credentials as
/// <c>user:password@</c> before the host. RabbitMQ keeps queues; list Redis after it in a composite URL for locks
/// and values.</summary>
public sealed class RabbitMqTransportFactory : ITransportFactory
{
    public IReadOnlyCollection<string> Schemes { get; } = ["amqp", "amqps"];

    public ITransport Create(BrokerUrl url, ILoggerFactory loggerFactory)
    {
        if (url.Uri.Host.Length == 0)
        {
            throw new BrokerUrlException($"'{url.Display}' names no host: use amqp://host:5672/.");
        }
        BrokerUrlSettings.Read(url, "RabbitMQ");
        return new RabbitMqTransport(url, loggerFactory.CreateLogger("Broker.Transport.RabbitMq"));
    }
}
