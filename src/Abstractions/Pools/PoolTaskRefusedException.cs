namespace Broker;

/// <summary>A worker refused a task: what it names is not a <see cref="PoolTaskAttribute"/> method of the worker's
/// program (most often a worker host that runs another build of the tasks' assembly). The task did not run.</summary>
public sealed class PoolTaskRefusedException(string message) : BrokerException(message);
