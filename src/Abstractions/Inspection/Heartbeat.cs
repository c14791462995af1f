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

    /// <summary>A gone pool's entry is removed by the next heartbeat of any pool this long after its last one.</summary>
    public static readonly TimeSpan Forgotten = TimeSpan.FromHours(1);

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

    /// <summary>Whether the transports keep what heartbeats need: a map and a value.</summary>
    public static bool Kept(BrokerContext broker) => broker.Keeps(t => t.Maps) && broker.Keeps(t => t.Values);
}
