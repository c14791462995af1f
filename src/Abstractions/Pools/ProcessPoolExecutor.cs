using System.Runtime.CompilerServices;
using Broker.Pools;
using Broker.Transport;

namespace Broker;

/// <summary>Python's <c>concurrent.futures.ProcessPoolExecutor</c> in .NET's shape: <see cref="Submit"/> gives a
/// <see cref="Task{TResult}"/> where Python gives a future, <see cref="Map"/> yields the results in order, and
/// <see cref="Shutdown"/> (or the end of a <c>using</c>) stops it. It runs on a <see cref="Pool"/>, so it runs only
/// methods marked <see cref="PoolTaskAttribute"/>, and a worker that dies mid-task has its task run again on another
/// where Python's executor would be broken for good.</summary>
/// <remarks>As in Python, at most <see cref="MaxWorkers"/> + 1 tasks are out to the workers at once; the others wait
/// in the executor, where <see cref="Shutdown"/> with <c>cancelFutures</c> cancels them. A task out to the workers
/// runs to its end.</remarks>
public sealed class ProcessPoolExecutor : IAsyncDisposable, IDisposable
{
    private readonly Pool _pool;
    private readonly System.Threading.Lock _gate = new();
    private readonly LinkedList<Waiting> _waiting = new();
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _out;
    private bool _shutdown;

    /// <param name="maxWorkers">Worker processes; <see cref="Environment.ProcessorCount"/> by default.</param>
    /// <param name="initializer">A static method each worker runs once before its first task.</param>
    /// <param name="initargs">The initializer's arguments.</param>
    /// <param name="maxTasksPerChild">Tasks a worker runs before a fresh one replaces it; 0 (the default) for no limit.</param>
    /// <param name="broker">The broker the tasks go through; <see cref="BrokerContext.Default"/> by default.</param>
    public ProcessPoolExecutor(int? maxWorkers = null, Delegate? initializer = null, object?[]? initargs = null, int maxTasksPerChild = 0,
        BrokerContext? broker = null)
        : this(new Pool(Checked(maxWorkers), initializer, initargs, maxTasksPerChild, broker: broker))
    {
    }

    private ProcessPoolExecutor(Pool pool) => _pool = pool;

    /// <summary>Starts an executor without blocking the caller while its workers start: the asynchronous twin of the
    /// constructor, whose parameters it takes.</summary>
    /// <param name="maxWorkers">As the constructor's.</param>
    /// <param name="initializer">As the constructor's.</param>
    /// <param name="initargs">As the constructor's.</param>
    /// <param name="maxTasksPerChild">As the constructor's.</param>
    /// <param name="broker">As the constructor's.</param>
    /// <param name="cancellationToken">Stops the start; the workers started by then are terminated.</param>
    public static async ValueTask<ProcessPoolExecutor> StartAsync(int? maxWorkers = null, Delegate? initializer = null, object?[]? initargs = null,
        int maxTasksPerChild = 0, BrokerContext? broker = null, CancellationToken cancellationToken = default) =>
        new(await Pool.StartAsync(Checked(maxWorkers), initializer, initargs, maxTasksPerChild, broker: broker, cancellationToken: cancellationToken)
            .ConfigureAwait(false));

    /// <summary>The worker processes.</summary>
    public int MaxWorkers => _pool.Processes;

    /// <summary>Runs <paramref name="fn"/> with <paramref name="args"/> in a worker; Python's <c>submit</c>. The task
    /// completes with the result, fails with <see cref="RemoteTaskException"/> if the call raised, and is cancelled if
    /// <see cref="Shutdown"/> cancelled it before it went out.</summary>
    /// <exception cref="ArgumentException"><paramref name="fn"/> is not a <see cref="PoolTaskAttribute"/> method, or
    /// the arguments do not fit it.</exception>
    /// <exception cref="BrokerSerializationException">An argument cannot be serialized.</exception>
    /// <exception cref="InvalidOperationException">The executor was shut down.</exception>
    public Task<TResult> Submit<TResult>(Delegate fn, params object?[] args)
    {
        ArgumentNullException.ThrowIfNull(fn);
        ArgumentNullException.ThrowIfNull(args);
        var (task, result) = _pool.PrepareApply<TResult>(fn, args);
        return Enqueue(task, result.Task).Future;
    }

    /// <summary>Python's <c>map</c>: submits <paramref name="fn"/> for every item at once, in chunks of
    /// <paramref name="chunksize"/>, and yields the results in the items' order as they come. A call that raised
    /// raises where its result would be; leaving the loop early cancels the chunks not yet out to the workers.</summary>
    /// <param name="fn">A <see cref="PoolTaskAttribute"/> method.</param>
    /// <param name="items">Read whole now, as Python's <c>map</c> reads its iterables.</param>
    /// <param name="timeout">How long after this call the results may take; null for no limit.</param>
    /// <param name="chunksize">Items per task.</param>
    /// <exception cref="TimeoutException">A result was not in within <paramref name="timeout"/> of the call; raised
    /// where that result would be.</exception>
    public IEnumerable<TResult> Map<TArg, TResult>(Func<TArg, TResult> fn, IEnumerable<TArg> items, TimeSpan? timeout = null, int chunksize = 1)
    {
        var deadline = new Deadline(Timeouts.From(timeout), _pool.Context.Options.TimeProvider);
        return Ordered(SubmitChunks(fn, items, chunksize), deadline);

        static IEnumerable<TResult> Ordered(List<Queued<List<TResult>>> chunks, Deadline deadline)
        {
            try
            {
                foreach (var chunk in chunks)
                {
                    if (!Timeouts.Completes(chunk.Future, deadline.Remaining))
                    {
                        throw new TimeoutException($"The results of the map were not all in within {deadline.Timeout}.");
                    }
                    foreach (var result in chunk.Future.GetAwaiter().GetResult())
                    {
                        yield return result;
                    }
                }
            }
            finally
            {
                chunks.ForEach(chunk => chunk.CancelIfWaiting());
            }
        }
    }

    /// <summary>The asynchronous twin of <see cref="Map"/>: submits every item at once and yields the results in order;
    /// cancelling the enumeration, or leaving it early, cancels the chunks not yet out to the workers.</summary>
    /// <param name="fn">A <see cref="PoolTaskAttribute"/> method.</param>
    /// <param name="items">Read whole now.</param>
    /// <param name="chunksize">Items per task.</param>
    public IAsyncEnumerable<TResult> MapAsync<TArg, TResult>(Func<TArg, TResult> fn, IEnumerable<TArg> items, int chunksize = 1) =>
        Ordered(SubmitChunks(fn, items, chunksize));

    private static async IAsyncEnumerable<TResult> Ordered<TResult>(List<Queued<List<TResult>>> chunks,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        try
        {
            foreach (var chunk in chunks)
            {
                foreach (var result in await chunk.Future.WaitAsync(cancellationToken).ConfigureAwait(false))
                {
                    yield return result;
                }
            }
        }
        finally
        {
            chunks.ForEach(chunk => chunk.CancelIfWaiting());
        }
    }

    private List<Queued<List<TResult>>> SubmitChunks<TArg, TResult>(Func<TArg, TResult> fn, IEnumerable<TArg> items, int chunksize)
    {
        ArgumentNullException.ThrowIfNull(fn);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunksize, 1);
        PoolTargets.Check(fn.Method);
        var prepared = items.Chunk(chunksize).Select(chunk => _pool.PrepareChunk<TArg, TResult>(fn.Method, chunk)).ToList();
        return prepared.ConvertAll(chunk => Enqueue(chunk.Task, chunk.Result.Task));
    }

    /// <summary>Stops the executor; Python's <c>shutdown</c>. It takes no new task; <paramref name="cancelFutures"/>
    /// cancels the tasks not yet out to the workers; the workers end once the others are done.</summary>
    /// <param name="wait">Returns once every task is done and the workers ended; otherwise at once.</param>
    /// <param name="cancelFutures">Cancels the tasks waiting in the executor.</param>
    public async ValueTask ShutdownAsync(bool wait = true, bool cancelFutures = false)
    {
        List<Waiting> cancelled = [];
        bool first;
        lock (_gate)
        {
            first = !_shutdown;
            _shutdown = true;
            if (cancelFutures)
            {
                cancelled.AddRange(_waiting);
                _waiting.Clear();
            }
            CheckIdle();
        }
        cancelled.ForEach(waiting => waiting.Cancel());
        if (first)
        {
            _ = CloseWhenIdleAsync();
        }
        if (wait)
        {
            await _closed.Task.ConfigureAwait(false);
        }
    }

    /// <summary>Python's <c>shutdown</c>; see <see cref="ShutdownAsync"/>.</summary>
    public void Shutdown(bool wait = true, bool cancelFutures = false) => Sync.Run(ShutdownAsync(wait, cancelFutures));

    /// <summary>Shuts down and waits, as leaving Python's <c>with ProcessPoolExecutor() as executor:</c> does.</summary>
    public ValueTask DisposeAsync() => ShutdownAsync(wait: true);

    /// <summary>Shuts down and waits; see <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => Shutdown(wait: true);

    private static int? Checked(int? maxWorkers) =>
        maxWorkers is <= 0 ? throw new ArgumentOutOfRangeException(nameof(maxWorkers), maxWorkers, "An executor has one worker or more.") : maxWorkers;

    private Queued<T> Enqueue<T>(PreparedTask task, Task<T> answered)
    {
        var future = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiting = new Waiting(task, () => future.TrySetCanceled());
        LinkedListNode<Waiting> node;
        lock (_gate)
        {
            if (_shutdown)
            {
                throw new InvalidOperationException("The executor was shut down: it takes no new task.");
            }
            node = _waiting.AddLast(waiting);
            SendWhatFits();
        }
        answered.ContinueWith(done =>
        {
            if (done.IsCompletedSuccessfully)
            {
                future.TrySetResult(done.Result);
            }
            else
            {
                future.TrySetException(done.Exception!.InnerExceptions);
            }
            lock (_gate)
            {
                _out--;
                SendWhatFits();
                CheckIdle();
            }
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return new Queued<T>(future.Task, () => CancelIfWaiting(node));
    }

    /// <summary>Under the lock: sends the waiting tasks, oldest first, while fewer than MaxWorkers + 1 are out.</summary>
    private void SendWhatFits()
    {
        while (_out <= MaxWorkers && _waiting.First is { } first)
        {
            _waiting.RemoveFirst();
            _out++;
            _pool.Send(first.Value.Task);
        }
    }

    private void CancelIfWaiting(LinkedListNode<Waiting> node)
    {
        lock (_gate)
        {
            if (node.List is null)
            {
                return;
            }
            _waiting.Remove(node);
            CheckIdle();
        }
        node.Value.Cancel();
    }

    /// <summary>Under the lock: once shut down with nothing waiting and nothing out, the workers may end.</summary>
    private void CheckIdle()
    {
        if (_shutdown && _out == 0 && _waiting.Count == 0)
        {
            _idle.TrySetResult();
        }
    }

    private async Task CloseWhenIdleAsync()
    {
        try
        {
            await _idle.Task.ConfigureAwait(false);
            _pool.Close();
            await _pool.JoinAsync().ConfigureAwait(false);
            await _pool.DisposeAsync().ConfigureAwait(false);
            _closed.TrySetResult();
        }
        catch (Exception e)
        {
            _closed.TrySetException(e);
        }
    }

    /// <summary>A task waiting in the executor, and how to cancel its future.</summary>
    private sealed record Waiting(PreparedTask Task, Action Cancel);

    /// <summary>A future, and how to cancel it while it still waits in the executor.</summary>
    private sealed record Queued<T>(Task<T> Future, Action CancelIfWaiting);
}
