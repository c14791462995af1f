namespace Broker.Conformance;

using System.Diagnostics;
using Broker;

// A pipe's messages carry their send's trace context, as queue items do, and still arrive byte for byte.
public abstract partial class ConformanceTests
{
    [Fact]
    public async Task A_pipe_messages_trace_runs_on_to_its_receive_at_the_other_end_and_its_bytes_arrive_whole()
    {
        using var recorder = new TraceRecorder();
        var (mine, sent) = Pipe.Create(broker: Broker);
        var theirs = await ViaPeerAsync(sent);
        byte[] envelopeLike = [0x1E, 0x00, 0x1E, 0x02];
        ActivityTraceId objects, bytes;
        using (var root = recorder.BeginTrace("send an object"))
        {
            objects = root.TraceId;
            await mine.SendAsync(new Greeting("traced", [1]));
        }
        using (var root = recorder.BeginTrace("send bytes"))
        {
            bytes = root.TraceId;
            await mine.SendBytesAsync(envelopeLike);
        }
        await mine.SendBytesAsync(envelopeLike); // outside any trace: no context travels

        Assert.Equal("traced", (await theirs.RecvAsync<Greeting>()).Text);
        Assert.Equal(envelopeLike, await theirs.RecvBytesAsync());
        var buffer = new byte[4];
        Assert.Equal(4, await theirs.RecvBytesIntoAsync(buffer));
        Assert.Equal(envelopeLike, buffer);
        foreach (var trace in new[] { objects, bytes })
        {
            var send = await recorder.SingleAsync(trace, $"send {mine.Name}");
            var receive = await recorder.SingleAsync(trace, $"receive {mine.Name}");
            Assert.Equal((ActivityKind.Producer, ActivityKind.Consumer), (send.Kind, receive.Kind));
            Assert.Equal(send.SpanId, receive.ParentSpanId);
            Assert.Equal(["send", "recv"], new[] { send, receive }.Select(span => span.GetTagItem("messaging.operation.name")));
            Assert.All(new[] { send, receive }, span => Assert.Equal(Broker.MessagingSystem, span.GetTagItem("messaging.system")));
        }
    }
}
