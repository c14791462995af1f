using System.Collections.Concurrent;
using Broker.Transport;
using Microsoft.Extensions.Logging;

namespace Broker.Pools;

/// <summary>How a cancellation reaches the worker running a task whose target takes a <see cref="CancellationToken"/>
/// (see <see cref="Chunk.TakesCancellation"/>), wherever that worker runs: the caller marks the task in a map named
/// after the pool's queue and bumps a value of that name, on which a worker running such a task waits, woken as a
/// futex waiter is. Only such tasks pay for it, three round trips as they start.</summary>
internal static class TaskCancellation
{
    private static readonly byte[] s_marked = [1];

    /// <summary>The map of the pool's cancelled tasks, and the value that counts its cancellations.</summary>
    public static string Name(string poolQueue) => $"{poolQueue}.cancelled";

    /// <summary>A task's key in the map: the caller's reply queue and the task's id, unique between callers.</summary>
    public static string Key(string replyTo, long id) => $"{replyTo}/{id}";

    /// <summary>Marks <paramref name="keys"/> cancelled and wakes the workers that run such tasks.</summary>
    public static async Task SignalAsync(BrokerContext broker, string poolQueue, IReadOnlyCollection<string> keys)
    {
        if (keys.Count == 0)
        {
            return;
        }
        var name = Name(poolQueue);
        foreach (var key in keys)
        {
            await broker.Maps.SetAsync(name, key, s_marked, CancellationToken.None).ConfigureAwait(false);
        }
        await broker.Values.InitializeAsync(name, Scalar.FromInteger(0), CancellationToken.None).ConfigureAwait(false);
        await broker.Values.AddAsync(name, Scalar.FromInteger(1), CancellationToken.None).ConfigureAwait(false);
        await broker.Values.NotifyAsync(name, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Removes the marks of <paramref name="keys"/>, once no worker can still be running their tasks.</summary>
    public static async Task ForgetAsync(BrokerContext broker, string poolQueue, IReadOnlyCollection<string> keys)
    {
        foreach (var key in keys)
        {
            await broker.Maps.RemoveAsync(Name(poolQueue), key, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>A token that fires once the task of <paramref name="key"/> is marked cancelled, watched until the
    /// returned watch is disposed, as the task ends.</summary>
    public static Watch Start(BrokerContext broker, string poolQueue, string key) => new(broker, Name(poolQueue), key);

    /// <summary>One task's watch: a token, and the wait that fires it.</summary>
    internal sealed class Watch : IDisposable
    {
        private readonly CancellationTokenSource _cancelled = new();
        private readonly CancellationTokenSource _ended = new();

        public Watch(BrokerContext broker, string name, string key) => _ = WatchAsync(broker, name, key);

        public CancellationToken Token => _cancelled.Token;

        public void Dispose() => _ended.Cancel();

        private async Task WatchAsync(BrokerContext broker, string name, string key)
        {
            var ended = _ended.Token;
            try
            {
                await broker.Values.InitializeAsync(name, Scalar.FromInteger(0), ended).ConfigureAwait(false);
                var seen = await broker.Values.GetAsync(name, ScalarKind.Integer, ended).ConfigureAwait(false);
                // A mark made after the look changes the value first, so the wait returns at once: none is missed.
                while (await broker.Maps.GetAsync(name, key, ended).ConfigureAwait(false) is null)
                {
                    seen = await broker.Values.WaitAsync(name, seen, Timeout.InfiniteTimeSpan, ended).ConfigureAwait(false);
                }
                _cancelled.Cancel();
            }
            catch (OperationCanceledException) when (ended.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                broker.Logger.LogWarning("Could not watch pool task {Key} for its cancellation: {Reason}", key, e.Message);
            }
        }
    }

    /// <summary>A pool's side: which of its tasks take a token and are not answered yet, and which it marked
    /// cancelled, whose marks go once their answers come (or the pool is disposed).</summary>
    internal sealed class Caller(BrokerContext broker, string poolQueue, string replyTo)
    {
        private readonly ConcurrentDictionary<long, byte> _open = new();
        private readonly ConcurrentDictionary<long, byte> _marked = new();

        /// <summary>Notes that task <paramref name="id"/>'s target takes a token.</summary>
        public void Track(long id) => _open[id] = 0;

        /// <summary>Fires the tokens of those of <paramref name="ids"/> that take one; a failure is logged, as the
        /// caller has stopped waiting for them either way.</summary>
        public async Task CancelAsync(IEnumerable<long> ids)
        {
            var keys = new List<string>();
            foreach (var id in ids)
            {
                if (_open.ContainsKey(id) && _marked.TryAdd(id, 0))
                {
                    keys.Add(Key(replyTo, id));
                }
            }
            try
            {
                await SignalAsync(broker, poolQueue, keys).ConfigureAwait(false);
            }
            catch (Exception e) when (e is BrokerException or ObjectDisposedException)
            {
                broker.Logger.LogWarning("Could not tell the workers of pool queue {Queue} that {Count} tasks were cancelled: {Reason}", poolQueue, keys.Count, e.Message);
            }
        }

        /// <summary>Fires the tokens of every task not answered yet, as the pool terminates.</summary>
        public Task CancelAllAsync() => CancelAsync(_open.Keys);

        /// <summary>Task <paramref name="id"/> answered: its worker is done with it, and its mark may go.</summary>
        public void Answered(long id)
        {
            if (_open.TryRemove(id, out _) && _marked.TryRemove(id, out _))
            {
                _ = ForgetLoggedAsync([Key(replyTo, id)]);
            }
        }

        /// <summary>Removes the marks left, as the pool is disposed.</summary>
        public Task ForgetAllAsync() => ForgetLoggedAsync([.. _marked.Keys.Select(id => Key(replyTo, id))]);

        private async Task ForgetLoggedAsync(IReadOnlyCollection<string> keys)
        {
            try
            {
                await ForgetAsync(broker, poolQueue, keys).ConfigureAwait(false);
            }
            catch (Exception e) when (e is BrokerException or ObjectDisposedException)
            {
                broker.Logger.LogDebug("Could not remove {Count} cancellation marks of pool queue {Queue}: {Reason}", keys.Count, poolQueue, e.Message);
            }
        }
    }
}
