namespace Broker.Tests.Redis;

using Broker;
using Broker.Transport.Redis;
using StackExchange.Redis;

/// <summary>The Redis transport configured in code: the application's own multiplexer, a hook on the configuration
/// Broker builds, settings the URL overrides, and values refused by name.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisTransportOptionsTests(RedisFixture redis)
{
    private string Endpoint => new Uri(redis.Url).Authority;

    [Fact]
    public async Task The_applications_own_multiplexer_serves_the_context_and_stays_open_after_it()
    {
        await using var mine = await ConnectionMultiplexer.ConnectAsync(Endpoint);
        var options = new BrokerOptions { Transports = { new RedisTransportFactory(new RedisTransportOptions { Connection = mine }) } };
        var before = mine.OperationCount;
        await using (var context = BrokerContext.Connect(redis.Url, options))
        {
            var queue = new Queue<int>(broker: context);
            await queue.PutAsync(7);
            Assert.Equal(7, await queue.GetAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(1, await new Value<int>(1, broker: context).GetAsync());
        }
        Assert.True(mine.OperationCount > before + 2, "the commands went through the application's multiplexer");
        Assert.True(mine.IsConnected, "Broker never closes a multiplexer it did not open");
        await mine.GetDatabase().PingAsync();
    }

    [Fact]
    public async Task ConfigureConnection_changes_the_connection_Broker_opens()
    {
        var name = $"typed-{Guid.NewGuid():N}";
        var options = new BrokerOptions
        {
            Transports = { new RedisTransportFactory(new RedisTransportOptions { ConfigureConnection = c => c.ClientName = name }) },
        };
        await using var context = BrokerContext.Connect(redis.Url, options);
        await new Value<int>(1, broker: context).GetAsync();
        await using var raw = await ConnectionMultiplexer.ConnectAsync($"{Endpoint},allowAdmin=true");
        var clients = await raw.GetServer(Endpoint).ClientListAsync();
        Assert.Contains(clients, client => client.Name == name);
    }

    [Fact]
    public async Task A_setting_given_in_code_holds_unless_the_url_names_it()
    {
        var options = new BrokerOptions { Transports = { new RedisTransportFactory(new RedisTransportOptions { Lease = TimeSpan.FromMinutes(7) }) } };
        await using var raw = await ConnectionMultiplexer.ConnectAsync(Endpoint);
        Assert.InRange(await LeaseOfAHeldLock(redis.Url), TimeSpan.FromMinutes(6), TimeSpan.FromMinutes(7));
        Assert.InRange(await LeaseOfAHeldLock(redis.UrlWith("lease=30s")), TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(30));

        async Task<TimeSpan> LeaseOfAHeldLock(string url)
        {
            await using var context = BrokerContext.Connect(url, options);
            var held = new Lock(broker: context);
            Assert.True(await held.AcquireAsync());
            var left = await raw.GetDatabase().KeyTimeToLiveAsync($"{redis.KeyPrefix}l:{{{held.Name}}}");
            await held.ReleaseAsync();
            return left ?? TimeSpan.Zero;
        }
    }

    [Theory]
    [InlineData(nameof(RedisTransportOptions.Lease))]
    [InlineData(nameof(RedisTransportOptions.Poll))]
    [InlineData(nameof(RedisTransportOptions.Prefetch))]
    [InlineData(nameof(RedisTransportOptions.RetryBudget))]
    [InlineData(nameof(RedisTransportOptions.KeyPrefix))]
    public void A_setting_the_transport_cannot_work_with_is_refused_by_name(string setting)
    {
        var options = setting switch
        {
            nameof(RedisTransportOptions.Lease) => new RedisTransportOptions { Lease = TimeSpan.Zero },
            nameof(RedisTransportOptions.Poll) => new RedisTransportOptions { Poll = TimeSpan.FromSeconds(-1) },
            nameof(RedisTransportOptions.Prefetch) => new RedisTransportOptions { Prefetch = 0 },
            nameof(RedisTransportOptions.RetryBudget) => new RedisTransportOptions { RetryBudget = TimeSpan.FromSeconds(-1) },
            _ => new RedisTransportOptions { KeyPrefix = "app{1}:" },
        };
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new RedisTransportFactory(options));
        Assert.Equal(setting, error.ParamName);
    }

    [Fact]
    public async Task Contexts_with_different_key_prefixes_share_nothing_and_every_key_begins_with_the_prefix()
    {
        var prefix = $"app-{Guid.NewGuid():N}:";
        await using var mine = BrokerContext.Connect($"{redis.ServerUrl}?prefix={prefix}");
        await using var theirs = BrokerContext.Connect(redis.ServerUrl);
        var name = $"q-{Guid.NewGuid():N}";
        await new Queue<int>(name: name, broker: mine).PutAsync(1);
        await new Value<int>(2, name: name, broker: mine).GetAsync();
        Assert.Equal(0, await new Queue<int>(name: name, broker: theirs).CountAsync());
        Assert.Equal(0, await new Value<int>(0, name: name, broker: theirs).GetAsync());

        await using var raw = await ConnectionMultiplexer.ConnectAsync(Endpoint);
        var keys = raw.GetServer(Endpoint).KeysAsync(pattern: prefix + "*").ToBlockingEnumerable().Select(k => (string)k!).ToList();
        Assert.Contains($"{prefix}q:{{{name}}}:items", keys);
        Assert.Contains($"{prefix}v:{{{name}}}", keys);
        Assert.Equal(1, await new Queue<int>(name: name, broker: mine).GetAsync(TimeSpan.FromSeconds(10)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a{b}")]
    [InlineData("with*glob")]
    public void A_key_prefix_that_cannot_be_used_is_refused_with_the_url_and_the_rule(string prefix)
    {
        var error = Assert.Throws<BrokerUrlException>(() => BrokerContext.Connect($"{redis.ServerUrl}?prefix={Uri.EscapeDataString(prefix)}"));
        Assert.Contains("sets prefix to", error.Message);
        Assert.Contains("letters, digits", error.Message);
    }
}
