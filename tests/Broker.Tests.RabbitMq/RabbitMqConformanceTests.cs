namespace Broker.Tests.RabbitMq;

using Broker;
using RabbitMQ.Client;

/// <summary>The queue suite, unchanged, against a real rabbitmq-server; RabbitMQ alone refuses what it cannot keep.</summary>
[Collection(RabbitMqCollection.Name)]
public sealed class RabbitMqConformanceTests(RabbitMqFixture rabbitMq) : QueueConformanceTests
{
    private static readonly object?[] DeliveryCounts =
        [System.Text.Encoding.UTF8.GetBytes("three"), -4, 3, 1.5, true, 99_999_999_999L, new Dictionary<string, object?> { ["n"] = 1 }, new List<object?> { 1 }, null];

    private static readonly object?[] JoinableFlags = [false, System.Text.Encoding.UTF8.GetBytes("yes"), 1, null];

    private IConnection? _raw;
    private IChannel? _publisher;

    protected override Task<BrokerContext> ConnectAsync() => Task.FromResult(BrokerContext.Connect(rabbitMq.Url));

    /// <summary>A message published by a plain RabbitMQ client, with Broker's own headers set to values of any type.</summary>
    protected override async Task WriteForeignAsync(string queue, byte[] body, Random random)
    {
        _raw ??= await new ConnectionFactory { Uri = new Uri(rabbitMq.Url) }.CreateConnectionAsync();
        _publisher ??= await _raw.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var headers = new Dictionary<string, object?>();
        if (random.Next(3) > 0)
        {
            headers["x-broker-deliveries"] = DeliveryCounts[random.Next(DeliveryCounts.Length)];
        }
        if (random.Next(2) > 0)
        {
            headers["x-broker-joinable"] = JoinableFlags[random.Next(JoinableFlags.Length)];
        }
        await _publisher.BasicPublishAsync("", queue, mandatory: true, new BasicProperties { Persistent = true, Headers = headers }, body);
    }

    public override async Task DisposeAsync()
    {
        if (_raw is not null)
        {
            await _raw.DisposeAsync();
        }
        await base.DisposeAsync();
    }

    [Fact]
    public async Task Locks_values_events_semaphores_manager_collections_and_pool_task_tokens_are_refused_with_an_error_that_names_the_composite()
    {
        var lockError = await Assert.ThrowsAsync<PrimitiveNotSupportedException>(() => new Lock(broker: Broker).AcquireAsync().AsTask());
        var valueError = await Assert.ThrowsAsync<PrimitiveNotSupportedException>(() => new Value<int>(1, broker: Broker).GetAsync().AsTask());
        var eventError = await Assert.ThrowsAsync<PrimitiveNotSupportedException>(() => new Event(broker: Broker).WaitAsync(TimeSpan.Zero).AsTask());
        var semaphoreError = await Assert.ThrowsAsync<PrimitiveNotSupportedException>(() => new Semaphore(1, broker: Broker).AcquireAsync().AsTask());
        var dictError = await Assert.ThrowsAsync<PrimitiveNotSupportedException>(() => new DictProxy<string, int>(broker: Broker).CountAsync().AsTask());
        var listError = await Assert.ThrowsAsync<PrimitiveNotSupportedException>(() => new ListProxy<int>(broker: Broker).AppendAsync(1).AsTask());
        // A pool task's token travels through a dictionary and a value: a task that takes one is refused as it is sent.
        await using var pool = new Pool(0, name: $"tokens-{Guid.NewGuid():N}", broker: Broker);
        var tokenError = Assert.Throws<PrimitiveNotSupportedException>(() => pool.ApplyAsync<string>(Tasks.AddUncancelled, [1, 2]));
        Assert.Contains("dictionaries", dictError.Message);
        foreach (var error in new[] { lockError, valueError, eventError, semaphoreError, dictError, listError, tokenError })
        {
            Assert.Contains(",redis://", error.Message);
            Assert.DoesNotContain("guest:guest", error.Message);
        }
    }
}

/// <summary>The prefetch suite on RabbitMQ: a standing consumer per queue and process.</summary>
[Collection(RabbitMqCollection.Name)]
public sealed class RabbitMqPrefetchTests(RabbitMqFixture rabbitMq) : PrefetchTests
{
    protected override string Url(int prefetch) => new UriBuilder(rabbitMq.Url) { Query = $"prefetch={prefetch}" }.Uri.ToString();
}
