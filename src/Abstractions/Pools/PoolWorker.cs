using System.Diagnostics;
using Broker.Diagnostics;
using Broker.Processes;
using Broker.Transport;
using Microsoft.Extensions.Logging;

namespace Broker.Pools;

/// <summary>What a pool worker process runs: take a message of tasks, run each task's argument lists, send the
/// results (or the errors) to the caller in one reply, then mark the message done. A worker killed mid-message never
/// marks it done, so the queue delivers it again to another worker. The reply goes before the mark, so a task may run
/// twice but never be lost; the caller keeps the first answer.</summary>
internal static class PoolWorker
{
    /// <summary>The most messages a worker has answered and not yet marked done.</summary>
    private const int MostUnmarked = 8;

    /// <summary>How long a worker keeps the tasks of a message it has not started: then it gives them back to the
    /// queue for the other workers, so that slow tasks that travelled together still spread over the pool.</summary>
    internal static readonly TimeSpan GiveBackAfter = TimeSpan.FromMilliseconds(5);

    /// <param name="tasks">The pool's task queue.</param>
    /// <param name="maxTasks">Tasks to run before ending, so that the pool starts a fresh worker; 0 for no limit.</param>
    /// <param name="initializer">Run once before the first task, as Python's <c>initializer</c>.</param>
    public static async Task Serve(JoinableQueue<TaskBatch> tasks, int maxTasks, PoolCall? initializer)
    {
        var broker = tasks.Context;
        // The tasks carry each its own trace context, and count as tasks.
        tasks.Traced = false;
        if (initializer is not null)
        {
            Chunk.Run(broker.Serializer, initializer.Target.Resolve(), initializer.Args, oneArgumentEach: false, CancellationToken.None);
        }
        // Neither a message's reply nor its mark holds up the next get: they travel together, and on the local transport
        // one connection keeps them in order. A message is marked done once its reply (and any tasks it gave back) is
        // accepted, so that no task is marked done before its answer is safe; marks of different messages need no
        // order, so the transport may send those made at once together.
        await using var done = TasksDone.Start(broker, tasks.Name);
        var marking = new List<Task>();
        // A mark that fails wakes the get, so that the failure ends this worker at once, not when a next message comes,
        // which may be never while the worker holds the message it could not finish.
        var markFailed = new CancellationTokenSource();
        var ran = 0;
        while (maxTasks == 0 || ran < maxTasks)
        {
            // A worker that dies holds its unmarked messages, whose tasks then run again: it does not get far ahead. A
            // reply that could not be sent ends the worker here, and its message is delivered again.
            while (true)
            {
                marking.RemoveAll(mark => mark.IsCompletedSuccessfully);
                // Any mark still listed and complete failed (or was cancelled): awaiting it throws.
                if (marking.Find(mark => mark.IsCompleted) is { } failed)
                {
                    await failed.ConfigureAwait(false);
                }
                if (marking.Count < MostUnmarked)
                {
                    break;
                }
                await Task.WhenAny(marking).ConfigureAwait(false);
            }
            TaskBatch batch;
            UnfinishedDelivery delivery;
            try
            {
                (batch, delivery) = await tasks.TakeOwnAsync(markFailed.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (markFailed.IsCancellationRequested)
            {
                continue;
            }
            if (batch.Stop)
            {
                await Task.WhenAll(marking).ConfigureAwait(false);
                await delivery.DoneAsync(CancellationToken.None).ConfigureAwait(false);
                return;
            }
            if (batch.Tasks is null || batch.Tasks.Contains(null!))
            {
                const string reason = "The message holds no list of tasks, or a task that is null.";
                await tasks.DeadLetters.PutAsync(new DeadLetter(tasks.Name, reason, delivery.Body.ToArray(), tasks.Context.Options.TimeProvider.GetUtcNow())).ConfigureAwait(false);
                broker.Logger.LogWarning("Dead-lettered a message of pool queue {Queue}: {Reason}", tasks.Name, reason);
                Telemetry.Count(Telemetry.DeadLettered, broker, tasks.Name);
                marking.Add(MarkAsync(Task.CompletedTask, delivery));
                continue;
            }
            var attempt = batch.EarlierAttempts + delivery.Attempt;
            Task settled;
            if (attempt > 1 && batch.Tasks.Count > 1)
            {
                // The worker that had these tasks ended amid them, and any one of them may have ended it: each goes back
                // alone, so that a task that ends every worker is given up alone (see GiveUp).
                settled = Task.WhenAll(batch.Tasks.Select(task =>
                    tasks.PutAsync(batch with { Tasks = [task], EarlierAttempts = attempt - 1 }).AsTask()));
            }
            else
            {
                if (attempt > 1)
                {
                    // This task may be what ended its last worker. Should it end this one too, the tasks answered
                    // before it are marked done, and do not run again at its cost. A mark may leave with the
                    // connection's next frame (the local transport's does), so a round trip follows: a mark lost with
                    // this worker would bring its message back counting one more delivery, for tasks that never ran.
                    await Task.WhenAll(marking).ConfigureAwait(false);
                    await tasks.CountAsync(CancellationToken.None).ConfigureAwait(false);
                }
                var run = new BatchRun(tasks, batch, attempt, maxTasks == 0 ? int.MaxValue : maxTasks - ran);
                settled = run.Run();
                ran += run.Ran;
                done?.Add(run.Ran);
            }
            marking.Add(MarkAsync(settled, delivery));
        }
        await Task.WhenAll(marking).ConfigureAwait(false);

        async Task MarkAsync(Task settled, UnfinishedDelivery delivery)
        {
            try
            {
                await settled.ConfigureAwait(false);
                await delivery.DoneAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch
            {
                markFailed.Cancel();
                throw;
            }
        }
    }

    /// <summary>The tasks of one message, run in order. Those beyond the worker's remaining <c>maxTasks</c> go back to
    /// the queue at once, and those not started within <see cref="GiveBackAfter"/> go back then, as one message.</summary>
    private sealed class BatchRun(JoinableQueue<TaskBatch> queue, TaskBatch batch, int attempt, int most)
    {
        private readonly System.Threading.Lock _gate = new();
        private int _next;
        private int _end = batch.Tasks.Count;
        private Task _givenBack = Task.CompletedTask;

        /// <summary>The tasks this worker ran.</summary>
        public int Ran => _next;

        /// <summary>Runs the tasks, and returns what completes once their reply and the tasks given back are accepted.</summary>
        public Task Run()
        {
            if (most < _end)
            {
                GiveBack(most);
            }
            using var timer = _end > 1 ? new Timer(_ => GiveBack(0), null, GiveBackAfter, Timeout.InfiniteTimeSpan) : null;
            var results = new List<PoolResult>(_end);
            while (TryTake(out var task))
            {
                results.Add(attempt > batch.MaxAttempts ? GiveUp(queue, batch, task, attempt) : RunTask(queue, batch, task, attempt));
            }
            Task givenBack;
            lock (_gate)
            {
                // Nothing is left to take: a give-back that ran set what it put before this.
                givenBack = _givenBack;
            }
            return Task.WhenAll(Reply(results), givenBack);
        }

        private bool TryTake(out PoolTask task)
        {
            lock (_gate)
            {
                task = _next < _end ? batch.Tasks[_next++] : null!;
                return task is not null;
            }
        }

        /// <summary>Puts back the tasks not started, keeping at least <paramref name="keep"/> of them.</summary>
        private void GiveBack(int keep)
        {
            lock (_gate)
            {
                var from = Math.Max(_next, keep);
                if (from >= _end)
                {
                    return;
                }
                var rest = batch.Tasks.Skip(from).Take(_end - from).ToArray();
                _end = from;
                _givenBack = queue.PutAsync(batch with { Tasks = rest }).AsTask();
            }
        }

        private Task Reply(List<PoolResult> results)
        {
            if (results.Count == 0)
            {
                return Task.CompletedTask;
            }
            if (batch.ReplyTo is not { } replyTo)
            {
                queue.Context.Logger.LogWarning("A message of pool queue {Queue} names no queue to answer to; its results are dropped.", queue.Name);
                return Task.CompletedTask;
            }
            // The context declares each queue once, so a handle per message costs no round trip.
            return new Queue<ResultBatch>(name: replyTo, broker: queue.Context) { Traced = false }.PutAsync(new ResultBatch(results)).AsTask();
        }
    }

    /// <summary>A task whose workers all ended while running it (it killed them, or they crashed): it fails with the
    /// reason and goes to the dead letters rather than taking down worker after worker for ever.</summary>
    private static PoolResult GiveUp(JoinableQueue<TaskBatch> tasks, TaskBatch batch, PoolTask task, int attempt)
    {
        var reason = $"The task was delivered {attempt} times, and each worker that took it ended before finishing it " +
            $"(killed or crashed); the pool allows {batch.MaxAttempts} attempts.";
        DeadLetter(tasks, batch, task, reason, "a task given up");
        tasks.Context.Logger.LogWarning("Gave up a task of pool queue {Queue}: {Reason}", tasks.Name, reason);
        Telemetry.Count(Telemetry.TasksFailed, tasks.Context, tasks.Name);
        return new PoolResult(task.Id, null, new RemoteError("WorkerLost", reason, null), task.TraceParent, task.TraceState);
    }

    /// <summary>Runs <paramref name="task"/> in a span whose parent is the span that sent it, so that the task's own
    /// spans join the caller's trace, and answers with the context of that span (or the task's, with no listener).</summary>
    private static PoolResult RunTask(JoinableQueue<TaskBatch> tasks, TaskBatch batch, PoolTask task, int attempt)
    {
        var broker = tasks.Context;
        using var activity = Telemetry.Start(broker, tasks.Name, Telemetry.ProcessOperation, "run", ActivityKind.Consumer,
            TraceEnvelope.Parse(task.TraceParent, task.TraceState));
        activity?.SetTag("broker.delivery.attempt", attempt);
        Telemetry.Count(Telemetry.TasksStarted, broker, tasks.Name);
        if (attempt > 1)
        {
            Telemetry.Count(Telemetry.TasksRetried, broker, tasks.Name);
        }
        var started = broker.Options.TimeProvider.GetTimestamp();
        var result = Run(tasks, batch, task, activity);
        if (result.Error is { } error)
        {
            Telemetry.Failed(activity, error.Type, error.Message);
        }
        Telemetry.Count(result.Error is null ? Telemetry.TasksCompleted : Telemetry.TasksFailed, broker, tasks.Name);
        if (Telemetry.TaskDuration.Enabled)
        {
            var tags = Telemetry.Tags(broker, tasks.Name);
            if (result.Error is not null)
            {
                tags.Add("error.type", result.Error.Type);
            }
            Telemetry.TaskDuration.Record(broker.Options.TimeProvider.GetElapsedTime(started).TotalSeconds, tags);
        }
        var (traceParent, traceState) = activity is null ? (task.TraceParent, task.TraceState) : TraceEnvelope.Of(activity);
        return result with { TraceParent = traceParent, TraceState = traceState };
    }

    private static PoolResult Run(JoinableQueue<TaskBatch> tasks, TaskBatch batch, PoolTask task, Activity? activity)
    {
        try
        {
            var method = PoolTargets.Resolve(task.Target ?? "");
            activity?.SetTag("broker.pool.task", Pool.TaskName(method));
            using var watch = Chunk.TakesCancellation(method) && batch.ReplyTo is { } replyTo
                ? TaskCancellation.Start(tasks.Context, tasks.Name, TaskCancellation.Key(replyTo, task.Id))
                : null;
            return new PoolResult(task.Id, Chunk.Run(tasks.Context.Serializer, method, task.Chunk, task.OneArgumentEach, watch?.Token ?? CancellationToken.None), null);
        }
        catch (PoolTaskRefusedException e)
        {
            DeadLetter(tasks, batch, task, e.Message, "a refused task");
            tasks.Context.Logger.LogWarning("Refused a task of pool queue {Queue} and dead-lettered it: {Reason}", tasks.Name, e.Message);
            return new PoolResult(task.Id, null, new RemoteError(nameof(PoolTaskRefusedException), e.Message, null));
        }
        catch (Exception e)
        {
            return new PoolResult(task.Id, null, RemoteError.From(e));
        }
    }

    /// <summary>Dead-letters <paramref name="task"/> as a message of its own, which could be put back as it is.</summary>
    private static void DeadLetter(JoinableQueue<TaskBatch> tasks, TaskBatch batch, PoolTask task, string reason, string what)
    {
        tasks.DeadLetters.Put(new DeadLetter(tasks.Name, reason,
            tasks.Context.Serializer.Serialize(batch with { Tasks = [task] }, what), tasks.Context.Options.TimeProvider.GetUtcNow()));
        Telemetry.Count(Telemetry.DeadLettered, tasks.Context, tasks.Name);
    }
}

/// <summary>A call the parent names for its workers over their trusted start-up channel, such as the initializer.</summary>
internal sealed record PoolCall(
    [property: System.Text.Json.Serialization.JsonPropertyName("target")] TargetReference Target,
    [property: System.Text.Json.Serialization.JsonPropertyName("args")] RawJson Args);
