namespace Broker.Tests.Processes;

using Broker;
using Broker.Tests.Servers;

/// <summary>The process tests on Redis, which cannot see a child die: what it held comes back when its 2-second
/// lease ends, and a live holder keeps its lock for several lease lengths because it renews it.</summary>
[Collection(RedisProcessCollection.Name)]
public sealed class RedisProcessTests(RedisServer redis) : TransportProcessTests
{
    protected override TimeSpan HeldCheck => TimeSpan.FromSeconds(5);

    protected override BrokerContext Connect() => BrokerContext.Connect(redis.ShortLeaseUrl);
}

/// <summary>Redis process tests run one at a time, beside the Redis server fixture.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RedisProcessCollection : ICollectionFixture<RedisServer>
{
    public const string Name = "redis processes";
}
