namespace Broker.Tests.Redis;

using Broker;

/// <summary>The pool tests on Redis, with 2-second leases.</summary>
[Collection(RedisProcessCollection.Name)]
public sealed class RedisPoolTests(RedisFixture redis) : TransportPoolTests
{
    protected override BrokerContext Connect() => BrokerContext.Connect(redis.ShortLeaseUrl());
}
