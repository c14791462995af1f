namespace Broker.Tests.Conformance;

using Broker;
using Broker.Tests.Servers;

/// <summary>The conformance suite, unchanged, against a real redis-server.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisConformanceTests(RedisServer redis) : ConformanceTests
{
    protected override Task<BrokerContext> ConnectAsync() => Task.FromResult(BrokerContext.Connect(redis.ShortLeaseUrl));
}
