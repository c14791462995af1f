using Microsoft.Extensions.Logging;

namespace Broker.Transport.RabbitMq;

/// <summary>Serves <c>amqp://host[:port][/vhost][?prefetch=1&amp;retry=20s]</c> and <c>amqps://</c>, with any credentials as
/// <c>user:password@</c> before the host. RabbitMQ keeps queues; list Redis after it in a composite URL for locks
/// and values.</summary>
public sealed class RabbitMqTransportFactory : ITransportFactory
{
    private readonly RabbitMqTransportOptions _options;

    /// <summary>The transport with its default settings, and those of each URL's query: what the package installs.</summary>
    public RabbitMqTransportFactory()
        : this(new RabbitMqTransportOptions())
    {
    }

    /// <summary>The transport with <paramref name="options"/>, which a URL's query overrides setting by setting.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting the transport cannot work with, named.</exception>
    public RabbitMqTransportFactory(RabbitMqTransportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
    }

    /// <inheritdoc/>
    public IReadOnlyCollection<string> Schemes { get; } = ["amqp", "amqps"];

    /// <inheritdoc/>
    public ITransport Create(BrokerUrl url, BrokerOptions options)
    {
        if (url.Uri.Host.Length == 0)
        {
            throw new BrokerUrlException($"'{url.Display}' names no host: use amqp://host:5672/.");
        }
        var settings = BrokerUrlSettings.Read(url, "RabbitMQ", "prefetch", "retry", "management");
        var prefetch = settings.Integer("prefetch", _options.Prefetch, 1, ushort.MaxValue);
        var management = new Uri(settings.Text("management", (_options.ManagementUrl ?? RabbitMqTransport.DefaultManagement(url)).ToString(), IsManagementUrl,
            "give the management API's address, such as http://host:15672"));
        return new RabbitMqTransport(url, (ushort)prefetch, settings.Duration("retry", _options.RetryBudget), management, _options.ConfigureConnectionFactory,
            options.LoggerFactory.CreateLogger("Broker.Transport.RabbitMq"), options.TimeProvider);
    }

    /// <summary>An http or https address with a host and nothing after its path, which the API's paths follow.</summary>
    private static bool IsManagementUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Host.Length > 0
        && uri.Query.Length == 0 && uri.Fragment.Length == 0 && uri.UserInfo.Length == 0;
}
