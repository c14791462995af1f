namespace Broker.Tests.Servers;

// xunit finds a collection's definition only in the test assembly itself, so the files of this folder are compiled
// into the test projects that use them (each links those it needs) rather than into the servers' library.

/// <summary>Tests on the composite: queues on RabbitMQ, locks and values on Redis.</summary>
[CollectionDefinition(Name)]
public sealed class CompositeCollection : ICollectionFixture<RabbitMqFixture>, ICollectionFixture<RedisFixture>
{
    public const string Name = "composite";
}

/// <summary>Composite tests with child processes run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CompositeProcessCollection : ICollectionFixture<RabbitMqFixture>, ICollectionFixture<RedisFixture>
{
    public const string Name = "composite processes";
}
