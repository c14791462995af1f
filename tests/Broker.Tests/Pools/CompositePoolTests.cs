namespace Broker.Tests.Pools;

using Broker;

/// <summary>The pool's queues on RabbitMQ; Redis keeps the values some tests coordinate with.</summary>
[Collection(CompositeProcessCollection.Name)]
public sealed class CompositePoolTests(RabbitMqFixture rabbitMq, RedisFixture redis) : TransportPoolTests
{
    protected override BrokerContext Connect() => BrokerContext.Connect($"{rabbitMq.Url},{redis.ShortLeaseUrl()}");
}
