namespace Broker.Conformance;

using ActivityTraceId = System.Diagnostics.ActivityTraceId;
using Broker;

/// <summary>A child that starts telemetry in its <see cref="BrokerOptions.ChildStartup"/> records spans of its
/// parent's trace: the trace context went inside the item.</summary>
public abstract partial class TransportProcessTests
{
    [Fact]
    public async Task A_child_that_starts_telemetry_at_start_up_records_its_get_in_the_putters_trace()
    {
        using var recorder = new TraceRecorder();
        await using var traced = await TraceRecorder.TracedChildrenAsync(Broker);
        var inbox = new Queue<string>(broker: traced);
        var reports = new Queue<string[]>(broker: traced);
        await using var child = new Process(ChildTracing.ReportGetSpan, inbox, reports) { Context = traced };
        await child.StartAsync();
        ActivityTraceId trace;
        using (var root = recorder.BeginTrace("produce"))
        {
            trace = root.TraceId;
            await inbox.PutAsync("traced");
        }
        var send = await recorder.SingleAsync(trace, $"send {inbox.Name}");
        Assert.Equal([trace.ToString(), send.SpanId.ToString()], await reports.GetAsync(Patience));
        Assert.True(await child.JoinAsync(Patience));
        Assert.Equal(0, child.ExitCode);
    }

    [Fact]
    public async Task A_child_start_up_that_captures_a_variable_is_refused_at_Start()
    {
        var greeting = "captured";
        await using var configured = BrokerContext.Connect(await Broker.ShareAsync(CancellationToken.None), new BrokerOptions
        {
            ChildStartup = () => new MemoryStream(System.Text.Encoding.UTF8.GetBytes(greeting)),
        });
        var child = new Process(Targets.ExitWith, 0) { Context = configured };
        var error = await Assert.ThrowsAsync<ProcessStartException>(() => child.StartAsync().AsTask());
        Assert.Contains("greeting", error.Message);
    }
}
