namespace Broker.Conformance;

using System.Diagnostics;
using Broker;

/// <summary>The trace context travels inside each item, so a consumer's spans join its producer's trace, on every
/// transport; spans follow the OpenTelemetry messaging conventions.</summary>
public abstract partial class QueueConformanceTests
{
    [Fact]
    public async Task A_puts_trace_runs_on_through_the_get_and_task_done_of_another_client()
    {
        using var recorder = new TraceRecorder();
        var queue = new JoinableQueue<Order>(broker: Broker);
        var peer = new JoinableQueue<Order>(name: queue.Name, broker: await PeerAsync());
        ActivityTraceId trace;
        ActivitySpanId producer;
        using (var root = recorder.BeginTrace("produce"))
        {
            (trace, producer) = (root.TraceId, root.SpanId);
            await queue.PutAsync(new Order("traced", 1, [], null));
        }
        Assert.Equal("traced", (await peer.GetAsync(Patience)).Name);
        await peer.TaskDoneAsync();

        var send = await recorder.SingleAsync(trace, $"send {queue.Name}");
        var receive = await recorder.SingleAsync(trace, $"receive {queue.Name}");
        var settle = await recorder.SingleAsync(trace, $"settle {queue.Name}");
        Assert.Equal((ActivityKind.Producer, producer), (send.Kind, send.ParentSpanId));
        Assert.Equal((ActivityKind.Consumer, send.SpanId), (receive.Kind, receive.ParentSpanId));
        Assert.Equal((ActivityKind.Consumer, send.SpanId), (settle.Kind, settle.ParentSpanId));
        Assert.Equal(["put", "get", "task_done"], new[] { send, receive, settle }.Select(span => span.GetTagItem("messaging.operation.name")));
        Assert.All(new[] { send, receive, settle }, span =>
        {
            Assert.Equal(queue.Name, span.GetTagItem("messaging.destination.name"));
            Assert.Equal(Broker.MessagingSystem, span.GetTagItem("messaging.system"));
        });
        Assert.Equal(1, receive.GetTagItem("broker.delivery.attempt"));
    }

    [Fact]
    public async Task A_failed_put_marks_its_span_failed()
    {
        using var recorder = new TraceRecorder();
        var queue = new Queue<object>(broker: Broker);
        using var root = recorder.BeginTrace("produce");
        await Assert.ThrowsAsync<BrokerSerializationException>(async () => await queue.PutAsync(new Action(() => { })));
        var send = await recorder.SingleAsync(root.TraceId, $"send {queue.Name}");
        Assert.Equal(ActivityStatusCode.Error, send.Status);
        Assert.Equal(typeof(BrokerSerializationException).FullName, send.GetTagItem("error.type"));
    }
}
