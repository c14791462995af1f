namespace Broker.Tests.RabbitMq;


[Collection(RabbitMqCollection.Name)]
public sealed class RabbitMqFakeClockTests(RabbitMqServer rabbitMq) : FakeClockTests
{
    protected override string Url => rabbitMq.Url;
}
