using System.CommandLine;
using System.Globalization;

namespace Broker.Cli.Commands;

/// <summary><c>broker workers</c>: each process that runs worker processes for a pool, from its heartbeat: machine,
/// pid, pool, workers alive, tasks done, last heartbeat, and whether it is gone.</summary>
internal static class WorkersCommand
{
    public static Command Create() => Listing.Create("workers",
        "Lists the worker hosts and pools with workers: machine, pid, pool, processes, tasks done, last heartbeat.",
        (inspector, ct) => inspector.WorkersAsync(ct), "No worker hosts.",
        ["POOL", "MACHINE", "PID", "PROCESSES", "TASKS DONE", "LAST HEARTBEAT", "STATE"],
        h => [h.Pool, h.Machine, h.Pid.ToString(CultureInfo.InvariantCulture), h.Processes.ToString(CultureInfo.InvariantCulture),
            h.TasksDone.ToString("N0", CultureInfo.InvariantCulture), h.LastHeartbeat.ToString("u", CultureInfo.InvariantCulture), h.Alive ? "alive" : "gone"]);
}
