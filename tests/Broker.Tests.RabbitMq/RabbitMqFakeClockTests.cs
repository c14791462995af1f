namespace Broker.Tests.RabbitMq;


[Collection(RabbitMqCollection.Name)]
public sealed class RabbitMqFakeClockTests(RabbitMqFixture rabbitMq) : FakeClockTests
{
    protected override string Url => rabbitMq.Url;
}
