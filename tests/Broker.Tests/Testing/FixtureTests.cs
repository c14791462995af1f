namespace Broker.Tests.Testing;

using Broker;
using StackExchange.Redis;

/// <summary>The fixtures of Broker.Testing, as a user's tests meet them: each context in a namespace of its own, a
/// child process working in its parent's, everything deleted when the fixture ends, and a server that is not there
/// failing at once with the reason. The rest of the suite runs on these fixtures too.</summary>
[Collection(CompositeProcessCollection.Name)]
public sealed class FixtureTests(RabbitMqFixture rabbitMq, RedisFixture redis)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Redis_contexts_keep_apart_a_child_works_in_its_parents_and_the_keys_go_with_the_fixture()
    {
        var fixture = RedisFixture.For(redis.ServerUrl);
        await fixture.InitializeAsync();
        var mine = await fixture.ConnectAsync();
        var theirs = await fixture.ConnectAsync();
        await AssertApartAsync(mine, theirs);
        await AssertChildSharesAsync(mine);

        await using var raw = await ConnectionMultiplexer.ConnectAsync(new Uri(redis.ServerUrl).Authority);
        var server = raw.GetServer(raw.GetEndPoints()[0]);
        var prefixes = new[] { mine, theirs }.Select(c => c.Url.Split("prefix=")[1]).ToList();
        Assert.All(prefixes, prefix => Assert.NotEmpty(server.Keys(pattern: prefix + "*")));

        await fixture.DisposeAsync();
        Assert.All(prefixes, prefix => Assert.Empty(server.Keys(pattern: prefix + "*")));
    }

    [Fact]
    public async Task RabbitMQ_contexts_keep_apart_in_virtual_hosts_that_go_with_the_fixture()
    {
        var fixture = RabbitMqFixture.For(ServerOf(rabbitMq.Url));
        await fixture.InitializeAsync();
        var mine = await fixture.ConnectAsync();
        var theirs = await fixture.ConnectAsync();
        await AssertQueuesApartAsync(mine, theirs);
        var hosts = new[] { fixture.Url, mine.Url, theirs.Url }.Select(url => new Uri(url).AbsolutePath.Trim('/')).ToList();
        var before = await rabbitMq.ControlAsync("list_vhosts", "name");
        Assert.All(hosts, host => Assert.Contains(host, before));

        await fixture.DisposeAsync();
        var after = await rabbitMq.ControlAsync("list_vhosts", "name");
        Assert.All(hosts, host => Assert.DoesNotContain(host, after));
    }

    [Fact]
    public async Task The_composite_of_both_fixtures_keeps_every_primitive_apart()
    {
        await using var mine = BrokerContext.Connect($"{await rabbitMq.NewIsolatedUrlAsync()},{await redis.NewIsolatedUrlAsync()}");
        await using var theirs = BrokerContext.Connect($"{await rabbitMq.NewIsolatedUrlAsync()},{await redis.NewIsolatedUrlAsync()}");
        await AssertApartAsync(mine, theirs);
    }

    [Fact]
    public async Task A_server_that_is_not_there_fails_the_fixture_at_once_with_the_url_and_the_reason()
    {
        var port = Loopback.FreePort();
        var noRedis = await Assert.ThrowsAsync<BrokerUnavailableException>(() => RedisFixture.For($"redis://127.0.0.1:{port}").InitializeAsync().WaitAsync(Patience));
        Assert.Contains($"Redis at redis://127.0.0.1:{port} does not answer", noRedis.Message);
        var noRabbitMq = await Assert.ThrowsAsync<BrokerUnavailableException>(
            () => RabbitMqFixture.For($"amqp://guest:s3cret@127.0.0.1:{port}/").InitializeAsync().WaitAsync(Patience));
        Assert.Contains($"RabbitMQ at amqp://guest:***@127.0.0.1:{port}/ does not answer", noRabbitMq.Message);
        Assert.DoesNotContain("s3cret", noRabbitMq.Message);
    }

    private static async Task AssertApartAsync(BrokerContext mine, BrokerContext theirs)
    {
        await AssertQueuesApartAsync(mine, theirs);
        var name = $"apart-{Guid.NewGuid():N}";
        Assert.True(await new Lock(name: name, broker: mine).AcquireAsync(TimeSpan.Zero));
        Assert.True(await new Lock(name: name, broker: theirs).AcquireAsync(TimeSpan.Zero), "a lock of one name is free in another namespace");
        await new Value<int>(1, name: name, broker: mine).SetAsync(5);
        Assert.Equal(1, await new Value<int>(1, name: name, broker: theirs).GetAsync());
    }

    private static async Task AssertQueuesApartAsync(BrokerContext mine, BrokerContext theirs)
    {
        var name = $"apart-{Guid.NewGuid():N}";
        await new Queue<int>(name: name, broker: mine).PutAsync(1);
        Assert.Equal(0, await new Queue<int>(name: name, broker: theirs).CountAsync());
        Assert.Equal(1, await new Queue<int>(name: name, broker: mine).GetAsync(Patience));
    }

    private static async Task AssertChildSharesAsync(BrokerContext context)
    {
        var queue = new Queue<int>(broker: context);
        await using var child = new Process(Targets.PutRange, queue, 2) { Context = context };
        await child.StartAsync();
        Assert.Equal(0, await queue.GetAsync(Patience));
        Assert.Equal(1, await queue.GetAsync(Patience));
        await child.JoinAsync(Patience);
        Assert.Equal(0, child.ExitCode);
    }

    /// <summary>The server of a fixture's URL: the URL without its virtual host.</summary>
    private static string ServerOf(string url) => new UriBuilder(url) { Path = "/" }.Uri.ToString();
}
