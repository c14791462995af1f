using System.Text.Json;
using Broker.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker;

/// <summary>Settings of a <see cref="BrokerContext"/>.</summary>
public sealed class BrokerOptions
{
    /// <summary>Where Broker and its transports log (connections, retries, dead letters).
    /// The default is <see cref="NullLoggerFactory.Instance"/>.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>How queue items, values passed to processes and process arguments become JSON. The default is
    /// <see cref="JsonSerializerDefaults.Web"/>; add a source-generated resolver here for trimmed applications.</summary>
    public JsonSerializerOptions? SerializerOptions { get; init; }

    /// <summary>Transport factories given in code, consulted before those the application's packages install (each
    /// package installs its own: a URL in configuration is enough to select it).</summary>
    public IList<ITransportFactory> Transports { get; init; } = [];
}
