using Broker.Transport;
using Microsoft.Extensions.Logging;

namespace Broker.Pools;

/// <summary>A pool's heartbeat: its entry in the map of <see cref="Heartbeat"/>s, written at start and every
/// <see cref="Heartbeat.Interval"/>, and removed when the pool ends. A beat that cannot be written is logged and
/// tried again at the next; a broker that keeps no map or value has no heartbeats, which is logged once.</summary>
internal sealed class PoolHeartbeat : IAsyncDisposable
{
    private readonly BrokerContext _broker;
    private readonly string _pool;
    private readonly Func<int> _alive;
    private readonly string _key;
    private readonly DateTimeOffset _started;
    private readonly CancellationTokenSource _stop = new();
    private Task _beating = Task.CompletedTask;
    private int _beats;

    /// <param name="broker">The pool's broker.</param>
    /// <param name="pool">The pool's name.</param>
    /// <param name="taskQueue">The pool's task queue, which its workers know it by.</param>
    /// <param name="alive">The pool's worker processes alive now.</param>
    public PoolHeartbeat(BrokerContext broker, string pool, string taskQueue, Func<int> alive)
    {
        _broker = broker;
        _pool = pool;
        _alive = alive;
        _key = Heartbeat.Key(Environment.MachineName, Environment.ProcessId, taskQueue);
        _started = broker.Options.TimeProvider.GetUtcNow();
    }

    /// <summary>Sets the pool's count of tasks done to zero, before its workers start (a container restarted with the
    /// same name and pid starts again from zero), and writes the first beat.</summary>
    public async ValueTask StartAsync(CancellationToken cancellationToken)
    {
        if (!Heartbeat.Kept(_broker))
        {
            _broker.Logger.LogInformation("Pool {Pool} publishes no heartbeat, so `broker workers` does not show it: no transport in {Broker} " +
                "keeps dictionaries and values (add redis:// to the URL).", _pool, _broker.Url);
            return;
        }
        await _broker.Values.SetAsync(Heartbeat.TasksDoneValue(_key), Scalar.FromInteger(0), cancellationToken).ConfigureAwait(false);
        await Heartbeat.TryAsync(BeatAsync, BeatFailed, _stop.Token).ConfigureAwait(false);
        _beating = Heartbeat.EveryIntervalAsync(_broker, BeatAsync, BeatFailed, _stop.Token);
    }

    private async Task BeatAsync(CancellationToken cancellationToken)
    {
        var done = await _broker.Values.GetAsync(Heartbeat.TasksDoneValue(_key), ScalarKind.Integer, cancellationToken).ConfigureAwait(false);
        var now = _broker.Options.TimeProvider.GetUtcNow();
        var beat = new Heartbeat(Environment.MachineName, Environment.ProcessId, _pool, _alive(), done.Integer, _started, now);
        await _broker.Maps.SetAsync(Heartbeat.Map, _key, _broker.Serializer.Serialize(beat, "a pool's heartbeat"), cancellationToken).ConfigureAwait(false);
        if (_beats++ % Heartbeat.SweepEvery == 0)
        {
            await ForgetGoneAsync(now, cancellationToken).ConfigureAwait(false);
        }
    }

    private void BeatFailed(Exception e) =>
        _broker.Logger.LogDebug(e, "Pool {Pool} could not write its heartbeat; it tries again in {Interval}.", _pool, Heartbeat.Interval);

    /// <summary>Removes the entries of pools gone for <see cref="Heartbeat.Forgotten"/>, each only if unchanged since read.</summary>
    private async Task ForgetGoneAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var (key, entry) in await _broker.Maps.EntriesAsync(Heartbeat.Map, cancellationToken).ConfigureAwait(false))
        {
            if (Heartbeat.TryRead(_broker, entry) is { } beat && now - beat.At > Heartbeat.Forgotten)
            {
                await _broker.Maps.CompareExchangeAsync(Heartbeat.Map, key, null, entry, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Stops the beats and removes the pool's entry, within <see cref="Heartbeat.Patience"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _beating.ConfigureAwait(false);
        if (Heartbeat.Kept(_broker))
        {
            await Heartbeat.TryAsync(async ct => await _broker.Maps.RemoveAsync(Heartbeat.Map, _key, ct).ConfigureAwait(false),
                e => _broker.Logger.LogDebug(e, "Pool {Pool} could not remove its heartbeat; it shows gone after {Lease}.", _pool, Heartbeat.Lease),
                CancellationToken.None).ConfigureAwait(false);
        }
        _stop.Dispose();
    }
}
