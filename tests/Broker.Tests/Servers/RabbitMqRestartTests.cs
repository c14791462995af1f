namespace Broker.Tests.Servers;

using Broker;

/// <summary>RabbitMQ stopped and started again (rabbitmqctl stop_app, start_app: every connection dropped, queues
/// recovered from disk) in the middle of a stream of joinable puts and gets. Every Put that returned was confirmed,
/// so it must be delivered; items whose TaskDone was cut off are delivered again, and Join still returns.</summary>
[Collection(RabbitMqProcessCollection.Name)]
public sealed class RabbitMqRestartTests(RabbitMqServer rabbitMq)
{
    [Fact]
    public async Task No_put_that_returned_is_lost_when_RabbitMQ_restarts()
    {
        await using var broker = BrokerContext.Connect(rabbitMq.Url);
        await FaultStream.LosesNothingAsync(broker, async () =>
        {
            await RabbitMqServer.ControlAsync("stop_app");
            await Task.Delay(500);
            await RabbitMqServer.ControlAsync("start_app");
        });
    }
}
