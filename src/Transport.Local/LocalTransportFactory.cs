using Broker.Transport;
using Broker.Transport.Local;
using Microsoft.Extensions.Logging;

namespace Broker.Transport.Local;

/// <summary>Serves <c>local://</c>: with no path, a broker hosted by this process; with the path of a socket
/// (<c>local:///tmp/broker-1-x/broker.sock</c>, as a parent gives its children), that broker.</summary>
public sealed class LocalTransportFactory : ITransportFactory
{
    /// <inheritdoc/>
    public IReadOnlyCollection<string> Schemes { get; } = ["local"];

    /// <inheritdoc/>

    public ITransport Create(BrokerUrl url, BrokerOptions options)
    {
        // Read by hand (see BrokerUrl.Parse): nothing but a path may follow local://.
        var path = url.SchemeSpecificPart;
        if ((path.Length > 0 && path[0] != '/') || path.AsSpan().ContainsAny("?#"))
        {
            throw new BrokerUrlException(
                $"'{url.Display}' does not fit the local transport: use local:// to host a broker here, or local:///path/to/broker.sock to reach one.");
        }
        var logger = options.LoggerFactory.CreateLogger("Broker.Transport.Local");
        return path is "" or "/"
            ? new LocalHostTransport(logger, options.TimeProvider)
            : new LocalClientTransport(url, path, logger, options.TimeProvider);
    }
}
