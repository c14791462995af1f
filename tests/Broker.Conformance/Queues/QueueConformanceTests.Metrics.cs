namespace Broker.Conformance;

using Broker;
using OpenTelemetry;
using OpenTelemetry.Metrics;

/// <summary>Broker's metrics count a queue's items in and out, its dead letters, and read its depth, on every transport.</summary>
public abstract partial class QueueConformanceTests
{
    [Fact]
    public async Task A_queues_puts_gets_dead_letters_and_depth_are_measured()
    {
        var exported = new List<MetricSnapshot>();
        using var meters = Sdk.CreateMeterProviderBuilder().AddBrokerInstrumentation().AddInMemoryExporter(exported).Build();
        var queue = new JoinableQueue<Order>(broker: Broker);
        await queue.EnsureCreatedAsync(CancellationToken.None);
        await WriteForeignAsync(queue.Name, [0], new Random(1));
        await queue.PutAsync(new Order("first", 1, [], null));
        await queue.PutAsync(new Order("second", 2, [], null));
        Assert.Equal("first", (await queue.GetAsync(Patience)).Name);
        await queue.TaskDoneAsync();

        meters.ForceFlush();
        Assert.Equal([2, 1, 1, 1], new[] { "messaging.client.sent.messages", "messaging.client.consumed.messages", "broker.queue.dead_lettered", "broker.queue.depth" }
            .Select(name => Measured.Total(exported, name, queue.Name)));
    }
}
