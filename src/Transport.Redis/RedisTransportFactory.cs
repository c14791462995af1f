using Broker.Transport;
using Broker.Transport.Redis;
using Microsoft.Extensions.Logging;

namespace Broker.Transport.Redis;

/// <summary>Serves <c>redis://host[:port][/database][?lease=10s&amp;poll=500ms&amp;prefetch=1]</c> and <c>rediss://</c>, with any
/// credentials as <c>user:password@</c> before the host.</summary>
public sealed class RedisTransportFactory : ITransportFactory
{
    /// <inheritdoc/>
    public IReadOnlyCollection<string> Schemes { get; } = ["redis", "rediss"];

    /// <inheritdoc/>

    public ITransport Create(BrokerUrl url, BrokerOptions options)
    {
        if (url.Uri.Host.Length == 0)
        {
            throw new BrokerUrlException($"'{url.Display}' names no host: use redis://host:6379.");
        }
        return new RedisTransport(url, options.LoggerFactory.CreateLogger("Broker.Transport.Redis"), options.TimeProvider);
    }
}
