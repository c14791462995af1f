namespace Broker.Transport.Redis;

/// <summary>The settings one transport runs with: those of <see cref="RedisTransportOptions"/>, each overridden by
/// the URL's query where it names one, as in <c>redis://127.0.0.1:6379/0?lease=10s</c>.</summary>
internal sealed record RedisOptions(TimeSpan Lease, TimeSpan Poll, int Prefetch, TimeSpan Retry, string KeyPrefix)
{
    public static RedisOptions From(BrokerUrl url, RedisTransportOptions given)
    {
        var settings = BrokerUrlSettings.Read(url, "Redis", "lease", "poll", "prefetch", "retry", "prefix");
        return new RedisOptions(settings.Duration("lease", given.Lease), settings.Duration("poll", given.Poll),
            settings.Integer("prefetch", given.Prefetch, 1, 1000), settings.Duration("retry", given.RetryBudget),
            settings.Text("prefix", given.KeyPrefix, RedisKeys.IsValidPrefix, RedisKeys.PrefixRule));
    }
}
