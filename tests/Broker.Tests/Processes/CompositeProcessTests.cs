namespace Broker.Tests.Processes;

using Broker;

/// <summary>The process tests on the composite: queues on RabbitMQ, which sees a killed consumer's connection drop
/// and delivers its item again at once, and locks on Redis, with 2-second leases.</summary>
[Collection(CompositeProcessCollection.Name)]
public sealed class CompositeProcessTests(RabbitMqFixture rabbitMq, RedisFixture redis) : TransportProcessTests
{
    protected override TimeSpan HeldCheck => TimeSpan.FromSeconds(5);

    protected override BrokerContext Connect() => BrokerContext.Connect($"{rabbitMq.Url},{redis.ShortLeaseUrl()}");
}
