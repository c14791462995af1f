namespace Broker.Tests.Servers;

// xunit finds a collection's definition only in the test assembly itself, so the files of this folder are compiled
// into the test projects that use them (each links those it needs) rather than into the servers' library.

/// <summary>Tests against the Redis server.</summary>
[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisFixture>
{
    public const string Name = "redis";
}

/// <summary>Redis tests with child processes run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RedisProcessCollection : ICollectionFixture<RedisFixture>
{
    public const string Name = "redis processes";
}
