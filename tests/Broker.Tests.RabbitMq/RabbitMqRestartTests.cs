namespace Broker.Tests.RabbitMq;

using Broker;

/// <summary>RabbitMQ stopped and started again in the middle of a stream of joinable puts and gets: every connection
/// dropped, queues recovered from disk. Every Put that returned was confirmed, so it must be delivered; items whose
/// TaskDone was cut off are delivered again, and Join still returns, exactly when every item is done.</summary>
[Collection(RabbitMqProcessCollection.Name)]
public sealed class RabbitMqRestartTests(RabbitMqFixture rabbitMq)
{
    [Fact]
    public async Task No_put_that_returned_is_lost_when_RabbitMQ_restarts()
    {
        await using var broker = BrokerContext.Connect(rabbitMq.Url);
        await FaultStream.LosesNothingAsync(broker, async () =>
        {
            await rabbitMq.ControlAsync("stop_app");
            await Task.Delay(500);
            await rabbitMq.ControlAsync("start_app");
        });
    }

    /// <summary>A crash, not a stop: the node's Erlang VM SIGKILLed. It keeps the messages it confirmed but can lose
    /// the acknowledgements of the last moments, so items done just before come back and are done again, and Join must
    /// count each once.</summary>
    [Fact]
    public async Task No_put_that_returned_is_lost_and_Join_returns_when_a_RabbitMQ_node_is_SIGKILLed()
    {
        await using var node = new RabbitMqNode();
        await node.StartAsync();
        await using var broker = BrokerContext.Connect(node.Url);
        await FaultStream.LosesNothingAsync(broker, async () =>
        {
            await node.KillAsync();
            await node.StartAsync();
        });
    }
}
