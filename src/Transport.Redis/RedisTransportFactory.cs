using Microsoft.Extensions.Logging;

namespace Broker.Transport.Redis;

/// <summary>Serves <c>redis://host[:port][/database][?lease=10s&amp;poll=500ms&amp;prefetch=1&amp;prefix=broker:]</c> and <c>rediss://</c>, with any
/// credentials as <c>user:password@</c> before the host.</summary>
public sealed class RedisTransportFactory : ITransportFactory
{
    private readonly RedisTransportOptions _options;

    /// <summary>The transport with its default settings, and those of each URL's query: what the package installs.</summary>
    public RedisTransportFactory()
        : this(new RedisTransportOptions())
    {
    }

    /// <summary>The transport with <paramref name="options"/>, which a URL's query overrides setting by setting.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting the transport cannot work with, named.</exception>
    public RedisTransportFactory(RedisTransportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
    }

    /// <inheritdoc/>
    public IReadOnlyCollection<string> Schemes { get; } = ["redis", "rediss"];

    /// <inheritdoc/>
    public ITransport Create(BrokerUrl url, BrokerOptions options)
    {
        if (url.Uri.Host.Length == 0)
        {
            throw new BrokerUrlException($"'{url.Display}' names no host: use redis://host:6379.");
        }
        return new RedisTransport(url, _options, options.LoggerFactory.CreateLogger("Broker.Transport.Redis"), options.TimeProvider);
    }
}
