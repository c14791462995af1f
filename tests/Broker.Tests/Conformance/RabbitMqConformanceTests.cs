namespace Broker.Tests.Conformance;

using Broker;
using Broker.Tests.Servers;

/// <summary>The queue suite, unchanged, against a real rabbitmq-server; RabbitMQ alone refuses what it cannot keep.</summary>
[Collection(RabbitMqCollection.Name)]
public sealed class RabbitMqConformanceTests(RabbitMqServer rabbitMq) : QueueConformanceTests
{
    protected override Task<BrokerContext> ConnectAsync() => Task.FromResult(BrokerContext.Connect(rabbitMq.Url));

    [Fact]
    public async Task Locks_and_values_are_refused_with_an_error_that_names_the_composite()
    {
        var lockError = await Assert.ThrowsAsync<PrimitiveNotSupportedException>(() => new Lock(broker: Broker).AcquireAsync().AsTask());
        var valueError = await Assert.ThrowsAsync<PrimitiveNotSupportedException>(() => new Value<int>(1, broker: Broker).GetAsync().AsTask());
        foreach (var error in new[] { lockError, valueError })
        {
            Assert.Contains(",redis://", error.Message);
            Assert.DoesNotContain("guest:guest", error.Message);
        }
    }
}

/// <summary>Everything on the composite: queues on RabbitMQ, locks and values on Redis.</summary>
[Collection(RabbitMqCollection.Name)]
public sealed class CompositeConformanceTests(RabbitMqServer rabbitMq, RedisServer redis) : ConformanceTests
{
    protected override Task<BrokerContext> ConnectAsync() => Task.FromResult(BrokerContext.Connect($"{rabbitMq.Url},{redis.ShortLeaseUrl}"));
}

/// <summary>RabbitMQ with <c>?prefetch=N</c>: a standing consumer keeps up to N messages ready in each process. The
/// queue suite assumes no client holds items it has not asked for, so prefetch has tests of its own.</summary>
[Collection(RabbitMqCollection.Name)]
public sealed class RabbitMqPrefetchTests(RabbitMqServer rabbitMq) : IAsyncLifetime
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

    private BrokerContext Connect(int prefetch)
    {
        var context = BrokerContext.Connect(new UriBuilder(rabbitMq.Url) { Query = $"prefetch={prefetch}" }.Uri.ToString());
        _contexts.Add(context);
        return context;
    }
}
