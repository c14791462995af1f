using Broker.Processes;
using Broker.Transport;
using Microsoft.Extensions.Logging;

namespace Broker.Pools;

/// <summary>What a pool worker process runs: take a task, run each argument list of its chunk, send the results (or
/// the error) to the caller, then mark the task done. A worker killed mid-task never marks it done, so the queue
/// delivers it again to another worker. The reply goes before the mark, so a task may run twice but never be lost;
/// the caller keeps the first answer.</summary>
internal static class PoolWorker
{
    /// <summary>The most tasks a worker has answered and not yet marked done.</summary>
    private const int MostUnmarked = 8;

    /// <param name="tasks">The pool's task queue.</param>
    /// <param name="maxTasks">Tasks to run before ending, so that the pool starts a fresh worker; 0 for no limit.</param>
    /// <param name="initializer">Run once before the first task, as Python's <c>initializer</c>.</param>
    public static async Task Serve(JoinableQueue<PoolTask> tasks, int maxTasks, PoolCall? initializer)
    {
        var broker = tasks.Broker;
        if (initializer is not null)
        {
            Chunk.Run(broker.Serializer, initializer.Target.Resolve(), initializer.Args);
        }
        // Neither a task's reply nor its mark holds up the next get: they travel together, and on the local transport
        // one connection keeps them in order. A task is marked done once its reply is accepted, so that no task is
        // marked done before its answer is safe; marks of different tasks need no order, so the transport may send
        // those made at once together.
        var marking = new List<Task>();
        for (var done = 0; maxTasks == 0 || done < maxTasks; done++)
        {
            // A worker that dies holds its unmarked tasks, which then run again: it does not get far ahead. A reply
            // that could not be sent ends the worker here, and its task is delivered again.
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
            var (task, delivery) = await tasks.TakeOwnAsync().ConfigureAwait(false);
            if (task.Stop)
            {
                await Task.WhenAll(marking).ConfigureAwait(false);
                await tasks.DoneAsync(delivery).ConfigureAwait(false);
                return;
            }
            var result = delivery.Attempt > task.MaxAttempts ? GiveUp(tasks, task, delivery.Attempt) : Run(tasks, task);
            var reply = Task.CompletedTask;
            if (task.ReplyTo is not { } replyTo)
            {
                broker.Logger.LogWarning("A task of pool queue {Queue} names no queue to answer to; its result is dropped.", tasks.Name);
            }
            else
            {
                // The context declares each queue once, so a handle per task costs no round trip.
                reply = new Queue<PoolResult>(name: replyTo, broker: broker).PutAsync(result).AsTask();
            }
            marking.Add(MarkAsync(reply, delivery));
        }
        await Task.WhenAll(marking).ConfigureAwait(false);

        async Task MarkAsync(Task reply, Delivery delivery)
        {
            await reply.ConfigureAwait(false);
            await tasks.DoneAsync(delivery).ConfigureAwait(false);
        }
    }

    /// <summary>A task whose workers all ended while running it (it killed them, or they crashed): it fails with the
    /// reason and goes to the dead letters rather than taking down worker after worker for ever.</summary>
    private static PoolResult GiveUp(JoinableQueue<PoolTask> tasks, PoolTask task, int attempt)
    {
        var reason = $"The task was delivered {attempt} times, and each worker that took it ended before finishing it " +
            $"(killed or crashed); the pool allows {task.MaxAttempts} attempts.";
        var broker = tasks.Broker;
        tasks.DeadLetters.Put(new DeadLetter(tasks.Name, reason, broker.Serializer.Serialize(task, "a task given up"), DateTimeOffset.UtcNow));
        broker.Logger.LogWarning("Gave up a task of pool queue {Queue}: {Reason}", tasks.Name, reason);
        return new PoolResult(task.Id, null, new RemoteError("WorkerLost", reason, null));
    }

    private static PoolResult Run(JoinableQueue<PoolTask> tasks, PoolTask task)
    {
        var broker = tasks.Broker;
        try
        {
            var method = PoolTargets.Resolve(task.Target ?? "");
            var chunk = task.Chunk ?? throw new ArgumentException($"A task for {method.Name} carries no arguments.");
            return new PoolResult(task.Id, Chunk.Run(broker.Serializer, method, chunk), null);
        }
        catch (PoolTaskRefusedException e)
        {
            var body = broker.Serializer.Serialize(task, "a refused task");
            tasks.DeadLetters.Put(new DeadLetter(tasks.Name, e.Message, body, DateTimeOffset.UtcNow));
            broker.Logger.LogWarning("Refused a task of pool queue {Queue} and dead-lettered it: {Reason}", tasks.Name, e.Message);
            return new PoolResult(task.Id, null, new RemoteError(nameof(PoolTaskRefusedException), e.Message, null));
        }
        catch (Exception e)
        {
            return new PoolResult(task.Id, null, RemoteError.From(e));
        }
    }
}

/// <summary>A call the parent names for its workers over their trusted start-up channel, such as the initializer.</summary>
internal sealed record PoolCall(
    [property: System.Text.Json.Serialization.JsonPropertyName("target")] TargetReference Target,
    [property: System.Text.Json.Serialization.JsonPropertyName("args")] RawJson Args);
