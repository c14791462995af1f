using Microsoft.Extensions.Logging;

namespace Broker.Transport;

/// <summary>One backend that keeps some or all of Broker's primitives. A transport returns <c>null</c> for a
/// primitive it cannot keep correctly, and a composite URL then places that primitive on the next transport.</summary>
public interface ITransport : IAsyncDisposable
{
    /// <summary>The transport's URL with credentials hidden.</summary>
    string DisplayUrl { get; }

    /// <summary>What Broker's spans and metrics name as <c>messaging.system</c> for this transport's queues, such as
    /// <c>rabbitmq</c>; <c>null</c> (the default) for the URL's scheme.</summary>
    string? MessagingSystem => null;

    /// <summary>Queues and joinable queues, or <c>null</c>.</summary>
    IQueueBackend? Queues { get; }

    /// <summary>Locks, or <c>null</c>.</summary>
    ILockBackend? Locks { get; }

    /// <summary>Numeric values and array elements, or <c>null</c>.</summary>
    IValueBackend? Values { get; }

    /// <summary>Maps of a <see cref="Manager"/>'s dictionaries and namespaces, or <c>null</c> (the default, for a
    /// transport written before maps were part of the contract).</summary>
    IMapBackend? Maps => null;

    /// <summary>Lists of a <see cref="Manager"/>'s, or <c>null</c> (the default).</summary>
    IListBackend? Lists => null;

    /// <summary>The URL a child process uses to reach this same broker. A transport hosted in this process may start
    /// serving here. The result can carry credentials: pass it to the child, never to a log.</summary>
    ValueTask<string> ShareAsync(CancellationToken cancellationToken = default);

    /// <summary>Makes one round trip to the broker, as a health check does, retrying a connection that fails as any
    /// call does until <paramref name="cancellationToken"/> fires.</summary>
    /// <exception cref="BrokerUnavailableException">The broker did not answer.</exception>
    ValueTask PingAsync(CancellationToken cancellationToken);
}

/// <summary>Creates transports for the URL schemes it names. A transport's package installs its factory through a
/// runtime setting per scheme (see docs/writing-a-transport.md), so that a URL alone selects it; an application can
/// also give one in <see cref="BrokerOptions.Transports"/>.</summary>
public interface ITransportFactory
{
    /// <summary>The schemes served, in lower case, such as <c>redis</c>.</summary>
    IReadOnlyCollection<string> Schemes { get; }

    /// <summary>Creates a transport; connecting may wait for first use. It logs with <see cref="BrokerOptions.LoggerFactory"/>
    /// and keeps its deadlines, pauses and leases on <see cref="BrokerOptions.TimeProvider"/>.</summary>
    /// <exception cref="BrokerUrlException">The URL does not fit this transport.</exception>
    ITransport Create(BrokerUrl url, BrokerOptions options);
}
