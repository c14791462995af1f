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

/// <summary>The prefetch suite on RabbitMQ: a standing consumer per queue and process.</summary>
[Collection(RabbitMqCollection.Name)]
public sealed class RabbitMqPrefetchTests(RabbitMqServer rabbitMq) : PrefetchTests
{
    protected override string Url(int prefetch) => new UriBuilder(rabbitMq.Url) { Query = $"prefetch={prefetch}" }.Uri.ToString();
}
