namespace Broker.Tests.Conformance;

using Broker;
using Broker.Tests.Servers;

/// <summary>The conformance suite, unchanged, against a real redis-server.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisConformanceTests(RedisServer redis) : ConformanceTests
{
    protected override Task<BrokerContext> ConnectAsync() => Task.FromResult(BrokerContext.Connect(redis.ShortLeaseUrl));
}

/// <summary>The prefetch suite on Redis: a Get with acknowledgement takes up to N items in one script and keeps the
/// rest leased to this process.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisPrefetchTests(RedisServer redis) : PrefetchTests
{
    protected override string Url(int prefetch) => $"{redis.ShortLeaseUrl}&prefetch={prefetch}";
}
