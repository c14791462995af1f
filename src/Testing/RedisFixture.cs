using Broker.Transport.Redis;
using StackExchange.Redis;
using Testcontainers.Redis;

namespace Broker.Testing;

/// <summary>A Redis for tests: the server at the URL given, else the one <c>BROKER_TEST_REDIS</c> names, else a
/// Testcontainers <c>redis</c> container. Each namespace is a key prefix (<c>?prefix=</c>) of its own, and the keys
/// under it are deleted when the fixture ends.</summary>
/// <example><code>
/// public sealed class OrderTests(RedisFixture redis) : IClassFixture&lt;RedisFixture&gt;
/// {
///     [Fact]
///     public async Task An_order_reaches_its_worker()
///     {
///         await using var broker = await redis.ConnectAsync();
///         var orders = new JoinableQueue&lt;string&gt;(broker: broker);
///         ...
///     }
/// }
/// </code></example>
public sealed class RedisFixture : BrokerServerFixture
{
    /// <summary>The environment variable that names the server, as in <c>BROKER_TEST_REDIS=redis://127.0.0.1:6379</c>.</summary>
    public const string ServerVariable = "BROKER_TEST_REDIS";

    private RedisContainer? _container;
    private IConnectionMultiplexer? _connection;

    /// <summary>The server <see cref="ServerVariable"/> names, or a container.</summary>
    public RedisFixture()
        : this(null)
    {
    }

    private RedisFixture(string? serverUrl)
        : base(serverUrl)
    {
    }

    /// <summary>A fixture on the server at <paramref name="serverUrl"/>, such as <c>redis://127.0.0.1:6379</c>, whatever
    /// <see cref="ServerVariable"/> says: for a test that starts its own, or for a fixture made by hand, which the
    /// test starts with <see cref="BrokerServerFixture.InitializeAsync"/> and ends with
    /// <see cref="BrokerServerFixture.DisposeAsync"/>.</summary>
    public static RedisFixture For(string serverUrl)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serverUrl);
        return new(serverUrl);
    }

    /// <inheritdoc/>
    public override string Variable => ServerVariable;

    /// <summary>What the keys of <see cref="BrokerServerFixture.Url"/>'s namespace begin with, for a test that looks at
    /// them with its own client.</summary>
    public string KeyPrefix => PrefixOf(Url);

    /// <inheritdoc/>
    protected override (string Name, string ExampleUrl) Server => ("Redis", "redis://127.0.0.1:6379");

    /// <inheritdoc/>
    protected override async Task<string> StartContainerAsync()
    {
        _container = new RedisBuilder("redis:7.0").Build();
        await _container.StartAsync().ConfigureAwait(false);
        return "redis://" + _container.GetConnectionString();
    }

    /// <inheritdoc/>
    protected override async Task ProbeAsync(string serverUrl)
    {
        var configuration = RedisTransport.Configure(BrokerUrl.Parse(serverUrl.Split('?')[0]));
        configuration.AbortOnConnectFail = true;
        configuration.ConnectTimeout = 3000;
        try
        {
            _connection = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
            await _connection.GetDatabase().PingAsync().ConfigureAwait(false);
        }
        catch (RedisException e)
        {
            throw new BrokerUnavailableException($"Redis at {BrokerUrl.Parse(serverUrl).Display} does not answer ({BrokerUrl.Redact(e.Message)}): the tests that need it cannot run.", e);
        }
    }

    /// <inheritdoc/>
    protected override Task<string> IsolateAsync(string serverUrl, CancellationToken cancellationToken) =>
        Task.FromResult(WithSettings(serverUrl, $"prefix={NewNamespaceName()}:"));

    /// <inheritdoc/>
    protected override async Task DeleteAsync(string isolatedUrl)
    {
        var connection = _connection!;
        var database = connection.GetDatabase();
        foreach (var endpoint in connection.GetEndPoints())
        {
            var server = connection.GetServer(endpoint);
            if (server.IsReplica)
            {
                continue;
            }
            var keys = new List<RedisKey>();
            await foreach (var key in server.KeysAsync(database.Database, pattern: PrefixOf(isolatedUrl) + "*", pageSize: 500).ConfigureAwait(false))
            {
                keys.Add(key);
            }
            foreach (var batch in keys.Chunk(500))
            {
                await database.KeyDeleteAsync(batch).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc/>
    protected override async Task StopAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
        if (_container is not null)
        {
            await _container.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static string PrefixOf(string isolatedUrl) =>
        Uri.UnescapeDataString(isolatedUrl[(isolatedUrl.LastIndexOf("prefix=", StringComparison.Ordinal) + "prefix=".Length)..].Split('&')[0]);
}
