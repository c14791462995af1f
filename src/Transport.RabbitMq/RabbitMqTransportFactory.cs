using Broker.Transport;
using Broker.Transport.RabbitMq;
using Microsoft.Extensions.Logging;

namespace Broker.Transport.RabbitMq;

/// <summary>Serves <c>amqp://host[:port][/vhost][?prefetch=1]</c> and <c>amqps://</c>, with any credentials as
/// <c>user:password@</c> before the host. RabbitMQ keeps queues; list Redis after it in a composite URL for locks
/// and values.</summary>
public sealed class RabbitMqTransportFactory : ITransportFactory
{
    /// <inheritdoc/>
    public IReadOnlyCollection<string> Schemes { get; } = ["amqp", "amqps"];

    /// <inheritdoc/>

    public ITransport Create(BrokerUrl url, BrokerOptions options)
    {
        if (url.Uri.Host.Length == 0)
        {
            throw new BrokerUrlException($"'{url.Display}' names no host: use amqp://host:5672/.");
        }
        // prefetch: messages a process keeps ready for its Gets; 1, the default, keeps none and takes one per Get.
        var prefetch = BrokerUrlSettings.Read(url, "RabbitMQ", "prefetch").Integer("prefetch", 1, 1, ushort.MaxValue);
        return new RabbitMqTransport(url, (ushort)prefetch, options.LoggerFactory.CreateLogger("Broker.Transport.RabbitMq"), options.TimeProvider);
    }
}
