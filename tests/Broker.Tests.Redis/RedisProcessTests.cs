namespace Broker.Tests.Redis;

using Broker;

/// <summary>The process tests on Redis, which cannot see a child die: what it held comes back when its 2-second
/// lease ends, and a live holder keeps its lock for several lease lengths because it renews it.</summary>
[Collection(RedisProcessCollection.Name)]
public sealed class RedisProcessTests(RedisFixture redis) : TransportProcessTests
{
    protected override TimeSpan HeldCheck => TimeSpan.FromSeconds(5);

    protected override BrokerContext Connect() => BrokerContext.Connect(redis.ShortLeaseUrl());
}
