namespace Broker.Tests.Servers;

using DotNet.Testcontainers.Builders;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Testcontainers.RabbitMq;

/// <summary>The RabbitMQ the tests use: the one named by <c>BROKER_TEST_RABBITMQ</c> (./test.sh starts one), else a
/// throwaway Testcontainers container where a Docker engine runs. With neither, or when the server does not answer,
/// every RabbitMQ test fails with the reason: it never passes silently.</summary>
public sealed class RabbitMqServer : IAsyncLifetime
{
    public const string Variable = "BROKER_TEST_RABBITMQ";
    private RabbitMqContainer? _container;

    /// <summary>The server's URL, credentials included.</summary>
    public string Url { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } url)
        {
            Url = url;
        }
        else
        {
            try
            {
                _container = new RabbitMqBuilder("rabbitmq:3.10").Build();
                await _container.StartAsync();
                Url = _container.GetConnectionString();
            }
            catch (DockerUnavailableException)
            {
                throw new InvalidOperationException(
                    $"No RabbitMQ for the tests: run ./test.sh, which starts one, or set {Variable}=amqp://guest:guest@127.0.0.1:5672/.");
            }
        }
        try
        {
            await using var probe = await new ConnectionFactory { Uri = new Uri(Url), RequestedConnectionTimeout = TimeSpan.FromSeconds(3) }.CreateConnectionAsync();
        }
        catch (BrokerUnreachableException e)
        {
            throw new InvalidOperationException($"RabbitMQ at {BrokerUrl.Redact(Url)} does not answer ({e.Message}): the RabbitMQ tests cannot run.", e);
        }
    }

    public async Task DisposeAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
    }
}

/// <summary>RabbitMQ alone, and the composite of RabbitMQ and Redis.</summary>
[CollectionDefinition(Name)]
public sealed class RabbitMqCollection : ICollectionFixture<RabbitMqServer>, ICollectionFixture<RedisServer>
{
    public const string Name = "rabbitmq";
}

/// <summary>RabbitMQ tests with worker processes run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RabbitMqProcessCollection : ICollectionFixture<RabbitMqServer>, ICollectionFixture<RedisServer>
{
    public const string Name = "rabbitmq processes";
}
