namespace Broker.Tests.Conformance;

using Broker;

/// <summary>Everything on the composite: queues on RabbitMQ, locks and values on Redis.</summary>
[Collection(CompositeCollection.Name)]
public sealed class CompositeConformanceTests(RabbitMqFixture rabbitMq, RedisFixture redis) : ConformanceTests
{
    protected override Task<BrokerContext> ConnectAsync() => Task.FromResult(BrokerContext.Connect($"{rabbitMq.Url},{redis.ShortLeaseUrl()}"));
}
