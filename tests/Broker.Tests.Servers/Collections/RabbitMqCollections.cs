namespace Broker.Tests.Servers;

// xunit finds a collection's definition only in the test assembly itself, so the files of this folder are compiled
// into the test projects that use them (each links those it needs) rather than into the servers' library.

/// <summary>Tests against the RabbitMQ server.</summary>
[CollectionDefinition(Name)]
public sealed class RabbitMqCollection : ICollectionFixture<RabbitMqFixture>
{
    public const string Name = "rabbitmq";
}

/// <summary>RabbitMQ tests with child processes run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RabbitMqProcessCollection : ICollectionFixture<RabbitMqFixture>
{
    public const string Name = "rabbitmq processes";
}
