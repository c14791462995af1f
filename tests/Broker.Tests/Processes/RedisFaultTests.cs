namespace Broker.Tests.Processes;

using Broker;
using Broker.Tests.Servers;

/// <summary>Children SIGKILLed on Redis, which cannot see a connection drop: what they held comes back when its
/// lease ends, and a live holder's lease is renewed so that nothing comes back early.</summary>
[Collection(RedisProcessCollection.Name)]
public sealed class RedisFaultTests(RedisServer redis) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private BrokerContext _broker = null!;

    public Task InitializeAsync()
    {
        _broker = BrokerContext.Connect(redis.ShortLeaseUrl);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task A_consumer_killed_mid_task_loses_nothing_and_Join_returns()
    {
        var queue = new JoinableQueue<string>(broker: _broker);
        var taken = new Value<int>(0, broker: _broker);
        var done = new Queue<string>(broker: _broker);
        await queue.PutAsync("job-1");
        await queue.PutAsync("job-2");

        await using var victim = new Process(Targets.TakeAndHang, queue, taken) { Broker = _broker };
        await victim.StartAsync();
        await Eventually.TrueAsync(async () => await taken.GetAsync() == 1, "the victim to take an item");
        victim.Kill();
        await victim.JoinAsync(Patience);

        await using var survivor = new Process(Targets.Consume, queue, done) { Daemon = true, Broker = _broker };
        await survivor.StartAsync();
        Assert.True(await queue.JoinAsync(Patience), "Join returns once the item whose lease ended is done");
        var finished = new[] { await done.GetAsync(Patience), await done.GetAsync(Patience) };
        Assert.Equal(["job-1", "job-2"], finished.Order());
    }

    [Fact]
    public async Task A_lock_whose_holder_is_killed_is_freed_when_its_lease_ends()
    {
        var @lock = new Lock(broker: _broker);
        var held = new Value<int>(0, broker: _broker);
        await using var holder = new Process(Targets.HoldAndHang, @lock, held) { Broker = _broker };
        await holder.StartAsync();
        await Eventually.TrueAsync(async () => await held.GetAsync() == 1, "the child to hold the lock");

        // Held past several lease lengths: the live holder renews it.
        Assert.False(await @lock.AcquireAsync(TimeSpan.FromSeconds(5)));

        holder.Kill();
        Assert.True(await @lock.AcquireAsync(Patience));
        await @lock.ReleaseAsync();
    }

    [Fact]
    public async Task Every_demo_style_exchange_works_across_processes()
    {
        var inbox = new Queue<string>(broker: _broker);
        var outbox = new Queue<string>(broker: _broker);
        await using var child = new Process(Targets.Echo, inbox, outbox) { Name = "echoer", Broker = _broker };
        await child.StartAsync();
        await inbox.PutAsync("hello");
        Assert.Equal($"hello from echoer, child of pid {Environment.ProcessId}", await outbox.GetAsync(Patience));
        await child.JoinAsync(Patience);
        Assert.Equal(0, child.ExitCode);
    }
}

/// <summary>Redis process tests run one at a time, beside the Redis server fixture.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RedisProcessCollection : ICollectionFixture<RedisServer>
{
    public const string Name = "redis processes";
}
