namespace Broker.Conformance;

using Broker;

/// <summary>A transport's <c>?prefetch=N</c>: each process keeps up to N items taken ahead for the Gets to come. The
/// queue suite assumes no client holds items it has not asked for, so prefetch has tests of its own, written once
/// for every transport that offers it.</summary>
public abstract class PrefetchTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly List<BrokerContext> _contexts = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var context in _contexts)
        {
            await context.DisposeAsync();
        }
    }

    [Fact]
    public async Task One_consumer_gets_the_items_of_one_producer_in_order()
    {
        var queue = new Queue<int>(broker: Connect(8));
        await Range.PutAsync(queue, 50);
        await Range.GetInOrderAsync(queue, 50, Patience);
    }

    [Fact]
    public async Task A_consumer_holding_its_whole_prefetch_unfinished_still_gets_the_next_item()
    {
        var queue = new JoinableQueue<int>(broker: Connect(2));
        await Range.PutAsync(queue, 3);
        await Range.GetInOrderAsync(queue, 3, Patience);
        for (var i = 0; i < 3; i++)
        {
            await queue.TaskDoneAsync();
        }
        Assert.True(await queue.JoinAsync(Patience));
    }

    [Fact]
    public async Task Items_prefetched_by_a_client_that_ends_are_delivered_again_and_Join_waits_for_them()
    {
        var producer = new JoinableQueue<int>(broker: Connect(1));
        await Range.PutAsync(producer, 4);
        var doomed = Connect(4);
        var consumer = new JoinableQueue<int>(name: producer.Name, broker: doomed);
        Assert.Equal(0, await consumer.GetAsync(Patience)); // and 1 to 3 wait in its consumer
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (await producer.CountAsync() > 0)
        {
            Assert.True(clock.Elapsed < Patience, "The consumer never took the items after the first ahead.");
            await Task.Delay(50);
        }
        await doomed.DisposeAsync();

        var got = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            got.Add(await producer.GetAsync(Patience));
            Assert.False(await producer.JoinAsync(TimeSpan.FromMilliseconds(100)));
            await producer.TaskDoneAsync();
        }
        Assert.Equal([0, 1, 2, 3], got.Order());
        Assert.True(await producer.JoinAsync(Patience));
    }

    /// <summary>The transport's URL with <c>?prefetch=</c><paramref name="prefetch"/>.</summary>
    protected abstract string Url(int prefetch);

    private BrokerContext Connect(int prefetch)
    {
        var context = BrokerContext.Connect(Url(prefetch));
        _contexts.Add(context);
        return context;
    }
}
