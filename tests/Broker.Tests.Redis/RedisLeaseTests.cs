namespace Broker.Tests.Redis;

using Broker;
using StackExchange.Redis;

/// <summary>Leases on Redis: a live holder keeps what it holds for as long as it works, and learns when it lost it.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisLeaseTests(RedisFixture redis) : IAsyncLifetime
{
    private BrokerContext _worker = null!;
    private BrokerContext _rival = null!;

    public Task InitializeAsync()
    {
        _worker = BrokerContext.Connect(redis.ShortLeaseUrl());
        _rival = BrokerContext.Connect(redis.ShortLeaseUrl());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _worker.DisposeAsync();
        await _rival.DisposeAsync();
    }

    [Fact]
    public async Task A_long_task_is_never_handed_to_a_second_consumer_while_the_first_works_on_it()
    {
        var queue = new JoinableQueue<string>(broker: _worker);
        await queue.PutAsync("long task");
        Assert.Equal("long task", await queue.GetAsync(TimeSpan.FromSeconds(5)));

        // Three lease lengths (the lease is 2 s): renewal keeps the item with its live consumer.
        var rival = new JoinableQueue<string>(name: queue.Name, broker: _rival);
        await Assert.ThrowsAsync<QueueEmptyException>(() => rival.GetAsync(TimeSpan.FromSeconds(6)).AsTask());

        await queue.TaskDoneAsync();
        Assert.True(await queue.JoinAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task A_lock_whose_lease_is_lost_cancels_HandleLost()
    {
        var @lock = new Lock(broker: _worker);
        var held = await @lock.EnterScopeAsync(TimeSpan.FromSeconds(5));
        Assert.False(held.HandleLost.IsCancellationRequested);

        // Another party breaks the lock behind the holder's back, as an expired lease or a failover would.
        var uri = new Uri(redis.Url);
        await using (var raw = await ConnectionMultiplexer.ConnectAsync($"{uri.Host}:{uri.Port}"))
        {
            Assert.True(await raw.GetDatabase().KeyDeleteAsync($"{redis.KeyPrefix}l:{{{@lock.Name}}}"));
        }

        var lost = new TaskCompletionSource();
        using var registration = held.HandleLost.Register(lost.SetResult);
        await lost.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // Nothing is left to release: ending the scope is quiet, and the lock is free for others.
        await held.DisposeAsync();
        var rival = new Lock(name: @lock.Name, broker: _rival);
        Assert.True(await rival.AcquireAsync(TimeSpan.Zero));
        await rival.ReleaseAsync();
    }
}
