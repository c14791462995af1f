namespace Broker;

/// <summary>One process that runs worker processes for a pool (a worker host, or an application's own
/// <see cref="Pool"/>), as <see cref="BrokerInspector.WorkersAsync"/> shows it from the heartbeat it publishes.</summary>
/// <param name="Machine">The machine (the container's host name) it runs on.</param>
/// <param name="Pid">Its process id there.</param>
/// <param name="Pool">The pool it serves.</param>
/// <param name="Processes">Its worker processes alive at its last heartbeat.</param>
/// <param name="TasksDone">Tasks its workers ran since it started, as they had added them by its last heartbeat.</param>
/// <param name="Started">When it started.</param>
/// <param name="LastHeartbeat">When it last said it was alive; it says so every 5 s.</param>
/// <param name="Alive">Whether its last heartbeat is recent (within 15 s); a host that stopped without ending its pool
/// shows gone, and an hour later its entry is removed.</param>
public sealed record PoolHostStatus(string Machine, int Pid, string Pool, int Processes, long TasksDone, DateTimeOffset Started,
    DateTimeOffset LastHeartbeat, bool Alive);
