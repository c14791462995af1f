using Broker.Transport;

namespace Broker.Pools;

/// <summary>What a pool with worker processes publishes about itself for <see cref="BrokerInspector.WorkersAsync"/>:
/// one entry of the map <see cref="Map"/> per pool, written every <see cref="Interval"/>, and a value its workers add
/// the tasks they finished to.</summary>
internal sealed record Heartbeat(string Machine, int Pid, string Pool, int Processes, long TasksDone, DateTimeOffset Started, DateTimeOffset At)
{
    /// <summary>The map of heartbeats, one entry per pool with workers.</summary>
    public const string Map = "broker.workers";

    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    /// <summary>A pool whose last heartbeat is older than this is shown gone: three heartbeats missed.</summary>
    public static readonly TimeSpan Lease = Interval * 3;

    /// <summary>A gone pool's entry is removed this long after its last heartbeat, by the next sweep of any pool.</summary>
    public static readonly TimeSpan Forgotten = TimeSpan.FromHours(1);

    /// <summary>A pool sweeps the map for entries forgotten at start and every this many heartbeats (a minute), as a
    /// sweep reads every entry.</summary>
    public const int SweepEvery = 12;

    /// <summary>How long one step of a heartbeat or of a worker's count, and the removal at the end, may wait for the
    /// broker: a pool or worker never waits on them longer.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(2);

    /// <summary>The entry of the pool with task queue <paramref name="taskQueue"/> hosted by process
    /// <paramref name="pid"/> of <paramref name="machine"/>.</summary>
    public static string Key(string machine, int pid, string taskQueue) => $"{machine}/{pid}/{taskQueue}";

    /// <summary>The value the workers of the pool with entry <paramref name="key"/> add their finished tasks to.</summary>
    public static string TasksDoneValue(string key) => $"{Map}/{key}/done";

    /// <summary>A heartbeat as written, or <c>null</c> for an entry something else wrote.</summary>
    public static Heartbeat? TryRead(BrokerContext broker, byte[] entry)
    {
        try
        {
            return broker.Serializer.Deserialize<Heartbeat>(entry, "a pool's heartbeat");
        }
        catch (BrokerSerializationException)
        {
            return null;
        }
    }

    /// <summary>Runs <paramref name="step"/> every <see cref="Interval"/> on the broker's clock, as
    /// <see cref="TryAsync"/> does, until <paramref name="stop"/> fires.</summary>
    public static async Task EveryIntervalAsync(BrokerContext broker, Func<CancellationToken, Task> step, Action<Exception> failed, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await Task.Delay(Interval, broker.Options.TimeProvider, stop).ConfigureAwait(false);
                await TryAsync(step, failed, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>Runs <paramref name="step"/> with a token that fires after <see cref="Patience"/> or with
    /// <paramref name="stop"/>; what the broker refused, or a patience that ran out, goes to <paramref name="failed"/>,
    /// to be tried again at the next step.</summary>
    public static async Task TryAsync(Func<CancellationToken, Task> step, Action<Exception> failed, CancellationToken stop)
    {
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(stop);
        patience.CancelAfter(Patience);
        try
        {
            await step(patience.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is BrokerException || (e is OperationCanceledException && !stop.IsCancellationRequested))
        {
            failed(e);
        }
    }

    /// <summary>Whether the transports keep what heartbeats need: a map and a value.</summary>
    public static bool Kept(BrokerContext broker) => broker.Keeps(t => t.Maps) && broker.Keeps(t => t.Values);
}
