namespace Broker.Tests.Redis;

using Broker;

/// <summary>Waiters on Redis wake on the pub/sub doorbell, not on the poll: with a poll of an hour, every wait here
/// would fail on its bound if a ring it needs were never sent. Puts ring only when they end an empty queue, and gets
/// only when they give a full queue room, so these are the cases that must still wake everyone who waits.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisWakeUpTests(RedisFixture redis) : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private BrokerContext _waiting = null!;
    private BrokerContext _acting = null!;

    public Task InitializeAsync()
    {
        _waiting = BrokerContext.Connect(redis.UrlWith("poll=60m"));
        _acting = BrokerContext.Connect(redis.UrlWith("poll=60m"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _waiting.DisposeAsync();
        await _acting.DisposeAsync();
    }

    [Fact]
    public async Task Getters_waiting_on_an_empty_queue_each_wake_for_items_put_one_after_another()
    {
        var queue = new Queue<int>(broker: _waiting);
        await queue.PutAsync(0);
        Assert.Equal(0, await queue.GetAsync()); // declared, and empty again
        var getters = Enumerable.Range(0, 3).Select(_ => queue.GetAsync().AsTask()).ToList();
        await Task.Delay(200); // the getters found the queue empty and wait

        var producer = new Queue<int>(name: queue.Name, broker: _acting);
        foreach (var item in new[] { 1, 2, 3 })
        {
            await producer.PutAsync(item);
        }

        Assert.Equal([1, 2, 3], (await Task.WhenAll(getters).WaitAsync(Bound)).Order());
    }

    [Fact]
    public async Task A_putter_waiting_on_a_full_queue_wakes_when_a_get_makes_room()
    {
        // Two items, so that the get leaves work unfinished and no "all done" ring wakes the putter instead.
        var queue = new Queue<int>(maxsize: 2, broker: _waiting);
        await queue.PutAsync(1);
        await queue.PutAsync(2);
        var putter = queue.PutAsync(3).AsTask();
        await Task.Delay(200);
        Assert.False(putter.IsCompleted);

        var consumer = new Queue<int>(name: queue.Name, maxsize: 2, broker: _acting);
        Assert.Equal(1, await consumer.GetAsync());

        await putter.WaitAsync(Bound);
        Assert.Equal(2, await consumer.GetAsync(Bound));
        Assert.Equal(3, await consumer.GetAsync(Bound));
    }

    [Fact]
    public async Task A_join_wakes_when_the_last_item_is_done()
    {
        var queue = new JoinableQueue<int>(broker: _waiting);
        await queue.PutAsync(1);
        var joined = queue.JoinAsync().AsTask();

        var consumer = new JoinableQueue<int>(name: queue.Name, broker: _acting);
        Assert.Equal(1, await consumer.GetAsync(Bound));
        await Task.Delay(200);
        Assert.False(joined.IsCompleted);
        await consumer.TaskDoneAsync();

        Assert.True(await joined.WaitAsync(Bound));
    }
}
