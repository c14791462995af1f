namespace Broker.Conformance;

using System.Diagnostics;
using Broker;
using OpenTelemetry;
using OpenTelemetry.Metrics;

/// <summary>A pool task's trace runs from the caller's span to the worker process's and back with the answer.</summary>
public abstract partial class TransportPoolTests
{
    [Fact]
    public async Task A_tasks_trace_runs_from_the_caller_through_its_worker_process_and_back()
    {
        using var recorder = new TraceRecorder();
        // Pool workers are children: each starts telemetry as the context's ChildStartup says.
        await using var traced = await TraceRecorder.TracedChildrenAsync(Broker);
        await using var pool = new Pool(1, broker: traced);
        ActivityTraceId trace;
        ActivitySpanId caller;
        string[] worker;
        using (var root = recorder.BeginTrace("call"))
        {
            (trace, caller) = (root.TraceId, root.SpanId);
            worker = await pool.ApplyAsync<string[]>(Tasks.CurrentSpan, []).Task.WaitAsync(Patience);
        }

        var send = await recorder.SingleAsync(trace, $"send {pool.QueueName}");
        Assert.Equal((ActivityKind.Producer, caller), (send.Kind, send.ParentSpanId));
        Assert.Equal("Tasks.CurrentSpan", send.GetTagItem("broker.pool.task"));
        // In the worker process: the task ran in a span of the caller's trace, the child of the send.
        Assert.Equal([trace.ToString(), send.SpanId.ToString()], new[] { worker[0], worker[2] });
        var result = await recorder.SingleAsync(trace, $"receive {pool.QueueName}");
        Assert.Equal(worker[1], result.ParentSpanId.ToString());
        Assert.Equal("result", result.GetTagItem("messaging.operation.name"));
    }

    [Fact]
    public async Task A_task_that_raises_marks_the_span_of_its_answer_failed()
    {
        using var recorder = new TraceRecorder();
        await using var pool = new Pool(1, broker: Broker);
        using var root = recorder.BeginTrace("call");
        await Assert.ThrowsAsync<RemoteTaskException>(() => pool.ApplyAsync<int>(Tasks.Fail, ["no"]).Task.WaitAsync(Patience));
        var result = await recorder.SingleAsync(root.TraceId, $"receive {pool.QueueName}");
        Assert.Equal(ActivityStatusCode.Error, result.Status);
        Assert.Equal(typeof(InvalidOperationException).FullName, result.GetTagItem("error.type"));
    }

    [Fact]
    public async Task A_worker_counts_its_tasks_and_the_pool_its_workers_alive()
    {
        var exported = new List<MetricSnapshot>();
        using var meters = Sdk.CreateMeterProviderBuilder().AddBrokerInstrumentation().AddInMemoryExporter(exported).Build();
        await using var traced = await TraceRecorder.TracedChildrenAsync(Broker);
        await using var pool = new Pool(1, broker: traced);
        Assert.Equal([1, 4], await pool.MapAsync(Tasks.Square, [1, 2], chunksize: 1).Task.WaitAsync(Patience));
        await Assert.ThrowsAsync<RemoteTaskException>(() => pool.ApplyAsync<int>(Tasks.Fail, ["no"]).Task.WaitAsync(Patience));
        // Counted in the worker, by the telemetry its start-up began: this task itself has started and not ended.
        var counted = await pool.ApplyAsync<long[]>(ChildTracing.TasksCounted, [pool.QueueName]).Task.WaitAsync(Patience);
        Assert.Equal(new long[] { 4, 2, 1, 3 }, counted);

        meters.ForceFlush();
        Assert.Equal(1, Measured.Total(exported, "broker.pool.workers", pool.QueueName));
        Assert.Equal(4, Measured.Total(exported, "messaging.client.sent.messages", pool.QueueName));
    }
}
