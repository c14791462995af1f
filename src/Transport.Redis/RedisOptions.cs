namespace Broker.Transport.Redis;

/// <summary>Settings read from the URL's query, as in <c>redis://127.0.0.1:6379/0?lease=10s</c>.</summary>
internal sealed record RedisOptions(TimeSpan Lease, TimeSpan Poll, int Prefetch, TimeSpan Retry)
{
    /// <summary>How long an item taken with acknowledgement, or a lock, stays with a holder that stops renewing it:
    /// the time a dead consumer's item takes to come back. The default is 10 seconds; a live holder renews at a third.</summary>
    public static readonly TimeSpan DefaultLease = TimeSpan.FromSeconds(10);

    /// <summary>How often a waiter looks again when no wake-up came: the pub/sub doorbell is the fast path, this
    /// the fallback for a lost message and for expired leases. The default is half a second.</summary>
    public static readonly TimeSpan DefaultPoll = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a command keeps trying while the connection is lost (<c>retry=</c>) before it raises
    /// <see cref="BrokerUnavailableException"/>; a call with a shorter timeout of its own gives up at that timeout.
    /// Refused credentials are not retried. The default is 10 seconds.</summary>
    public static readonly TimeSpan DefaultRetry = TimeSpan.FromSeconds(10);

    /// <summary>Items a Get with acknowledgement takes at once: it hands out the first and keeps the rest, leased
    /// and renewed as items taken, for the Gets to come. 1, the default, keeps none, so an item waits in the queue,
    /// visible to every consumer, until one asks for it. A process that ends gives back those it kept.</summary>
    public static RedisOptions From(BrokerUrl url)
    {
        var settings = BrokerUrlSettings.Read(url, "Redis", "lease", "poll", "prefetch", "retry");
        return new RedisOptions(settings.Duration("lease", DefaultLease), settings.Duration("poll", DefaultPoll),
            settings.Integer("prefetch", 1, 1, 1000), settings.Duration("retry", DefaultRetry));
    }
}
