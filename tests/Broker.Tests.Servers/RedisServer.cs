namespace Broker.Tests.Servers;

using DotNet.Testcontainers.Builders;
using StackExchange.Redis;
using Testcontainers.Redis;

/// <summary>The Redis the tests use: the one named by <c>BROKER_TEST_REDIS</c> (./test.sh starts one), else a
/// throwaway Testcontainers container where a Docker engine runs. With neither, or when the server does not answer,
/// every Redis test fails with the reason: it never passes silently.</summary>
public sealed class RedisServer : IAsyncLifetime
{
    public const string Variable = "BROKER_TEST_REDIS";
    private RedisContainer? _container;

    /// <summary>The server's URL, without transport settings.</summary>
    public string Url { get; private set; } = "";

    /// <summary>The URL with short leases, so that tests of a dead holder wait two seconds, not ten.</summary>
    public string ShortLeaseUrl => $"{Url}?lease=2s&poll=100ms";

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } url)
        {
            Url = url.TrimEnd('/');
        }
        else
        {
            try
            {
                _container = new RedisBuilder("redis:7.0").Build();
                await _container.StartAsync();
                Url = "redis://" + _container.GetConnectionString();
            }
            catch (DockerUnavailableException)
            {
                throw new InvalidOperationException(
                    $"No Redis for the tests: run ./test.sh, which starts one, or set {Variable}=redis://127.0.0.1:6379.");
            }
        }
        try
        {
            var uri = new Uri(Url);
            await using var probe = await ConnectionMultiplexer.ConnectAsync($"{uri.Host}:{uri.Port},connectTimeout=3000");
            await probe.GetDatabase().PingAsync();
        }
        catch (RedisConnectionException e)
        {
            throw new InvalidOperationException($"Redis at {Url} does not answer ({e.Message}): the Redis tests cannot run.", e);
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
