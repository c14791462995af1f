using RabbitMQ.Client;

namespace Broker.Transport.RabbitMq;

/// <summary>How the RabbitMQ transport works, given in code: register it with
/// <c>new BrokerOptions { Transports = { new RabbitMqTransportFactory(new RabbitMqTransportOptions { ... }) } }</c>.
/// A setting in the URL's query (<c>?prefetch=8&amp;retry=30s</c>) overrides the one given here; a child process gets only the
/// URL, so settings it must share belong in the URL.</summary>
public sealed class RabbitMqTransportOptions
{
    /// <summary>Messages a process keeps ready for its Gets, 1 to 65535, on a standing consumer per queue. 1 keeps
    /// none and takes one per Get, so a message waits in the queue, visible to every consumer, until one asks for it.
    /// URL: <c>prefetch=</c>.</summary>
    public int Prefetch { get; init; } = 1;

    /// <summary>How long a call keeps trying, on new connections, while RabbitMQ cannot be reached before it raises
    /// <see cref="BrokerUnavailableException"/>; a call with a shorter timeout gives up at that timeout. Refused
    /// credentials are not retried. A node takes longer to come back than Redis does, hence 20 s rather than Redis's
    /// 10 s. URL: <c>retry=</c>.</summary>
    public TimeSpan RetryBudget { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>The address of RabbitMQ's management API (the <c>rabbitmq_management</c> plugin), which lists the queues
    /// for <see cref="BrokerInspector"/> and the <c>broker</c> tool, as AMQP cannot; it logs in with the URL's
    /// credentials. <c>null</c> (the default) for the URL's host on port 15672 (15671 for <c>amqps://</c>).
    /// URL: <c>management=</c>.</summary>
    public Uri? ManagementUrl { get; init; }

    /// <summary>Changes the connection factory Broker built from the URL before each connection: TLS
    /// (<see cref="ConnectionFactory.Ssl"/>, on for an <c>amqps://</c> URL), heartbeats, timeouts, a client name.
    /// Broker keeps automatic recovery off: it opens a new connection itself when one is lost.</summary>
    public Action<ConnectionFactory>? ConfigureConnectionFactory { get; init; }

    /// <summary>Raises <see cref="ArgumentOutOfRangeException"/>, naming the setting, for a value the transport
    /// cannot work with.</summary>
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Prefetch, 1, nameof(Prefetch));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Prefetch, ushort.MaxValue, nameof(Prefetch));
        ArgumentOutOfRangeException.ThrowIfLessThan(RetryBudget, TimeSpan.Zero, nameof(RetryBudget));
    }
}
