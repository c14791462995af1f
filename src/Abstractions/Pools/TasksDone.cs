using Broker.Transport;
using Microsoft.Extensions.Logging;

namespace Broker.Pools;

/// <summary>The tasks a pool worker process ran, added to its pool's count (<see cref="Heartbeat.TasksDoneValue"/>)
/// every <see cref="Heartbeat.Interval"/> and when the worker ends, so that counting costs a task nothing.</summary>
internal sealed class TasksDone : IAsyncDisposable
{
    private readonly BrokerContext _broker;
    private readonly string _value;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _adding;
    private long _ran;
    private long _added;

    private TasksDone(BrokerContext broker, string value)
    {
        _broker = broker;
        _value = value;
        _adding = Heartbeat.EveryIntervalAsync(broker, AddRanAsync, AddFailed, _stop.Token);
    }

    /// <summary>The count of a worker whose parent hosts the pool of <paramref name="taskQueue"/>, or <c>null</c> where
    /// the pool publishes no heartbeat.</summary>
    public static TasksDone? Start(BrokerContext broker, string taskQueue) =>
        Process.ParentProcess() is { Pid: { } host } && Heartbeat.Kept(broker)
            ? new TasksDone(broker, Heartbeat.TasksDoneValue(Heartbeat.Key(Environment.MachineName, host, taskQueue)))
            : null;

    public void Add(int tasks) => Interlocked.Add(ref _ran, tasks);

    private async Task AddRanAsync(CancellationToken cancellationToken)
    {
        var ran = Volatile.Read(ref _ran);
        if (ran != _added)
        {
            await _broker.Values.AddAsync(_value, Scalar.FromInteger(ran - _added), cancellationToken).ConfigureAwait(false);
            _added = ran;
        }
    }

    private void AddFailed(Exception e) =>
        _broker.Logger.LogDebug(e, "A pool worker could not add its tasks done to {Value}; it tries again in {Interval}.", _value, Heartbeat.Interval);

    /// <summary>Adds what is left to add, within a short patience, and stops.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _adding.ConfigureAwait(false);
        await Heartbeat.TryAsync(AddRanAsync, AddFailed, CancellationToken.None).ConfigureAwait(false);
        _stop.Dispose();
    }
}
