using StackExchange.Redis;

namespace Broker.Transport.Redis;

/// <summary>How the Redis transport works, given in code: register it with
/// <c>new BrokerOptions { Transports = { new RedisTransportFactory(new RedisTransportOptions { ... }) } }</c>. A
/// setting in the URL's query (<c>?lease=2s&amp;poll=100ms&amp;prefetch=8&amp;retry=30s&amp;prefix=app:</c>) overrides the one given here;
/// a child process gets only the URL, so settings it must share belong in the URL.</summary>
public sealed class RedisTransportOptions
{
    /// <summary>How long an item taken with acknowledgement, or a lock, stays with a holder that stops renewing it:
    /// the time a dead consumer's item takes to come back. A live holder renews at a third. URL: <c>lease=</c>.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a waiter looks again when no wake-up came: the pub/sub doorbell is the fast path, this the
    /// fallback for a lost message and for expired leases. URL: <c>poll=</c>.</summary>
    public TimeSpan Poll { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Items a Get with acknowledgement takes at once, 1 to 1000: it hands out the first and keeps the rest,
    /// leased and renewed, for the Gets to come. 1 keeps none, so an item waits in the queue, visible to every
    /// consumer, until one asks for it. URL: <c>prefetch=</c>.</summary>
    public int Prefetch { get; init; } = 1;

    /// <summary>How long a command keeps trying while the connection is lost before it raises
    /// <see cref="BrokerUnavailableException"/>; a call with a shorter timeout gives up at that timeout. Refused
    /// credentials are not retried. URL: <c>retry=</c>.</summary>
    public TimeSpan RetryBudget { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>What every key and channel of Broker's begins with, so that several applications, or several tests,
    /// share one Redis without sharing their queues, locks and values: 1 to 64 letters, digits or <c>- _ . :</c>.
    /// URL: <c>prefix=</c>, which a child process gets too.</summary>
    public string KeyPrefix { get; init; } = RedisKeys.DefaultPrefix;

    /// <summary>The application's own multiplexer, used instead of one Broker opens from the URL: Broker never
    /// closes it. The URL still names the server for child processes, which connect on their own.</summary>
    public IConnectionMultiplexer? Connection { get; init; }

    /// <summary>Changes the configuration Broker built from the URL before it connects: TLS certificates and their
    /// validation (<see cref="ConfigurationOptions.CertificateValidation"/>), timeouts, a client name. A
    /// <c>rediss://</c> URL turns TLS on.</summary>
    public Action<ConfigurationOptions>? ConfigureConnection { get; init; }

    /// <summary>Raises <see cref="ArgumentOutOfRangeException"/>, naming the setting, for a value the transport
    /// cannot work with.</summary>
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Lease, TimeSpan.Zero, nameof(Lease));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Poll, TimeSpan.Zero, nameof(Poll));
        ArgumentOutOfRangeException.ThrowIfLessThan(Prefetch, 1, nameof(Prefetch));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Prefetch, 1000, nameof(Prefetch));
        ArgumentOutOfRangeException.ThrowIfLessThan(RetryBudget, TimeSpan.Zero, nameof(RetryBudget));
        if (!RedisKeys.IsValidPrefix(KeyPrefix ?? ""))
        {
            throw new ArgumentOutOfRangeException(nameof(KeyPrefix), KeyPrefix, $"A key prefix of '{KeyPrefix}' cannot be used: {RedisKeys.PrefixRule}.");
        }
    }
}
