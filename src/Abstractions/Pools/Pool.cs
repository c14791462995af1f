using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Broker.Diagnostics;
using Broker.Pools;
using Broker.Processes;
using Broker.Serialization;
using Broker.Transport;
using Microsoft.Extensions.Logging;

namespace Broker;

/// <summary>A pool of worker processes, like <c>multiprocessing.Pool</c>: <see cref="Apply"/>, <see cref="ApplyAsync"/>,
/// <see cref="Map"/>, <see cref="Imap"/>, <see cref="ImapUnordered"/>, <see cref="Starmap"/>. Tasks go through a
/// <see cref="JoinableQueue{T}"/> on the broker, so a worker killed mid-task never hangs the pool: its task is
/// delivered again to another worker, and the pool starts a replacement. Workers run only methods marked
/// <see cref="PoolTaskAttribute"/>. Tasks submitted while the pool's previous message is on its way to the broker go
/// together in the next one, up to <see cref="MostCallsPerMessage"/> calls, and a map's chunks go in one message
/// (a large map's in several).</summary>
public sealed class Pool : IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    /// <summary>The most replies the pool takes in one trip to the broker, where the transport can take several.</summary>
    private const int MostRepliesAtOnce = 64;

    /// <summary>The most calls one message of tasks carries; a chunk or a map of more goes alone. A worker runs them
    /// all in well under a millisecond when they are trivial, and gives back those it cannot start soon.</summary>
    internal const int MostCallsPerMessage = 256;

    /// <summary>The most bytes of arguments one message of a map's chunks carries; a larger map goes in several
    /// messages, put together, within each of which its chunks start in order.</summary>
    private const int MostMapMessageBytes = 1024 * 1024;
    private readonly BrokerContext _broker;
    private readonly JoinableQueue<TaskBatch> _tasks;
    private readonly Queue<ResultBatch> _results;
    private readonly TaskCancellation.Caller _cancellations;
    private readonly GroupCommit<(PoolTask[][] Messages, int Calls), bool> _outbox;
    private IReadOnlyList<BrokerHandle> _initializerHandles = [];
    private readonly ConcurrentDictionary<long, Action<PoolResult>> _pending = new();
    private readonly List<Process> _workers = [];
    private readonly PoolHeartbeat? _heartbeat;
    private readonly System.Threading.Lock _gate = new();
    private readonly Func<Process> _newWorker;
    private readonly CancellationTokenSource _stopSupervising = new();
    private readonly CancellationTokenSource _stopCollecting = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _collecting = Task.CompletedTask;
    private Task _supervising = Task.CompletedTask;
    private readonly int _maxTaskAttempts;
    private long _lastId;
    private State _state;
    private volatile bool _disposed;
    private int _feeds;

    /// <param name="processes">Worker processes; <see cref="Environment.ProcessorCount"/> by default.</param>
    /// <param name="initializer">A static method each worker runs once before its first task.</param>
    /// <param name="initargs">The initializer's arguments.</param>
    /// <param name="maxTasksPerChild">Tasks a worker runs before it is replaced by a fresh one; 0 (the default) for no limit.</param>
    /// <param name="maxTaskAttempts">How many times a task runs when the workers running it end before finishing it:
    /// a worker killed mid-task has its task run again on another, and a task that ends every worker that takes it
    /// fails with the reason after this many attempts instead of taking workers down for ever. The default is 3.</param>
    /// <param name="name">A pool that worker hosts on other machines serve too (see <see cref="ServeAsync"/>); its
    /// tasks go to the queue <c>pool.{name}.tasks</c>. A unique, private pool by default.</param>
    /// <param name="broker">The broker the tasks go through; <see cref="BrokerContext.Default"/> by default.</param>
    /// <remarks>With <paramref name="processes"/> 0 and a <paramref name="name"/>, the pool starts no worker of its
    /// own and its tasks run on the worker hosts serving that name.</remarks>
    public Pool(int? processes = null, Delegate? initializer = null, object?[]? initargs = null, int maxTasksPerChild = 0,
        int maxTaskAttempts = 3, string? name = null, BrokerContext? broker = null)
        : this(new Settings(processes, initializer, initargs, maxTasksPerChild, maxTaskAttempts, name, broker)) =>
        Sync.Run(StartWorkersAsync(CancellationToken.None));

    /// <summary>Starts a pool without blocking the caller while its workers start: the asynchronous twin of the
    /// constructor, whose parameters it takes.</summary>
    /// <param name="processes">Worker processes, as the constructor's.</param>
    /// <param name="initializer">As the constructor's.</param>
    /// <param name="initargs">As the constructor's.</param>
    /// <param name="maxTasksPerChild">As the constructor's.</param>
    /// <param name="maxTaskAttempts">As the constructor's.</param>
    /// <param name="name">As the constructor's.</param>
    /// <param name="broker">As the constructor's.</param>
    /// <param name="cancellationToken">Stops the start; the workers started by then are terminated.</param>
    public static async ValueTask<Pool> StartAsync(int? processes = null, Delegate? initializer = null, object?[]? initargs = null,
        int maxTasksPerChild = 0, int maxTaskAttempts = 3, string? name = null, BrokerContext? broker = null,
        CancellationToken cancellationToken = default)
    {
        var pool = new Pool(new Settings(processes, initializer, initargs, maxTasksPerChild, maxTaskAttempts, name, broker));
        await pool.StartWorkersAsync(cancellationToken).ConfigureAwait(false);
        return pool;
    }

    /// <summary>Everything but starting the workers, which the callers do, synchronously or not.</summary>
    private Pool(Settings settings)
    {
        var (processes, initializer, initargs, maxTasksPerChild, maxTaskAttempts, name, broker) = settings;
        ArgumentOutOfRangeException.ThrowIfNegative(maxTasksPerChild);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTaskAttempts, 1);
        _maxTaskAttempts = maxTaskAttempts;
        Processes = processes ?? Environment.ProcessorCount;
        ArgumentOutOfRangeException.ThrowIfNegative(Processes, nameof(processes));
        if (Processes == 0 && name is null)
        {
            throw new ArgumentException("A pool with no processes of its own runs its tasks on worker hosts: give the name of the pool they serve.", nameof(processes));
        }
        _broker = broker ?? BrokerContext.Default;
        _tasks = new JoinableQueue<TaskBatch>(name: name is null ? null : TaskQueueName(name), broker: _broker) { Traced = false };
        Name = name ?? _tasks.Name;
        _results = new Queue<ResultBatch>(broker: _broker) { Traced = false };
        _cancellations = new TaskCancellation.Caller(_broker, _tasks.Name, _results.Name);
        _outbox = new GroupCommit<(PoolTask[][] Messages, int Calls), bool>(SendAsync, MostCallsPerMessage, submitted => submitted.Calls);
        var call = initializer is null ? null : Call(initializer, initargs ?? []);
        var started = 0;
        _heartbeat = Processes > 0 ? new PoolHeartbeat(_broker, Name, _tasks.Name, () => AliveWorkers) : null;
        _newWorker = () => new Process(PoolWorker.Serve, _tasks, maxTasksPerChild, call)
        {
            Name = $"PoolWorker-{Interlocked.Increment(ref started)}",
            Daemon = true,
            Context = _broker,
        };
    }

    /// <summary>Starts the workers, then collects results and supervises them; a pool whose workers could not all
    /// start is terminated.</summary>
    private async ValueTask StartWorkersAsync(CancellationToken cancellationToken)
    {
        try
        {
            await HandlesWritten.CreateAsync(_initializerHandles, cancellationToken).ConfigureAwait(false);
            if (_heartbeat is not null)
            {
                await _heartbeat.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            for (var i = 0; i < Processes; i++)
            {
                var worker = _newWorker();
                await worker.StartAsync(cancellationToken).ConfigureAwait(false);
                _workers.Add(worker);
            }
        }
        catch
        {
            Begin();
            await DisposeAsync().ConfigureAwait(false);
            throw;
        }
        Begin();
    }

    private void Begin()
    {
        if (Processes > 0)
        {
            Observed.Add(this);
        }
        _collecting = CollectAsync();
        _supervising = Processes == 0 ? Task.CompletedTask : SuperviseAsync();
    }

    private sealed record Settings(int? Processes, Delegate? Initializer, object?[]? Initargs, int MaxTasksPerChild,
        int MaxTaskAttempts, string? Name, BrokerContext? Broker);

    private enum State
    {
        Running,
        Closed,
        Terminated,
    }

    /// <summary>The worker processes this pool starts itself (0 when worker hosts serve it).</summary>
    public int Processes { get; }

    /// <summary>The broker the tasks go through.</summary>
    internal BrokerContext Context => _broker;

    /// <summary>The queue the tasks go to, which names the pool in its spans and metrics.</summary>
    internal string QueueName => _tasks.Name;

    /// <summary>The pool's name, which worker hosts serve, or for a private pool its task queue's: it names the pool
    /// in the metric of its workers alive.</summary>
    internal string Name { get; }

    /// <summary>The worker processes of this pool alive now.</summary>
    internal int AliveWorkers => Workers().Count(w => w.IsAlive);

    /// <summary>Serves the named pool with <paramref name="processes"/> worker processes of this machine until
    /// <paramref name="cancellationToken"/> fires: what a worker host in a container runs. Workers that end are
    /// replaced, and each replacement is logged with the exit code; the count alive is logged every
    /// <see cref="HealthInterval"/>. On cancellation the workers get SIGTERM and give back the tasks they had not
    /// finished, which other workers then run.</summary>
    public static async Task ServeAsync(string name, int? processes = null, int maxTasksPerChild = 0, BrokerContext? broker = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (processes is 0)
        {
            throw new ArgumentOutOfRangeException(nameof(processes), "A worker host serves with one worker process or more.");
        }
        await using var pool = new Pool(processes, maxTasksPerChild: maxTasksPerChild, name: name, broker: broker);
        pool._broker.Logger.LogInformation("Serving pool {Pool} with {Processes} worker processes on {Broker}", name, pool.Processes, pool._broker.Url);
        try
        {
            while (true)
            {
                await Task.Delay(HealthInterval, pool._broker.Options.TimeProvider, cancellationToken).ConfigureAwait(false);
                var workers = pool.Workers();
                pool._broker.Logger.LogInformation("Pool {Pool}: {Alive} of {Processes} workers alive (pids {Pids})",
                    name, workers.Count(w => w.IsAlive), pool.Processes, string.Join(", ", workers.Select(w => w.Pid)));
            }
        }
        catch (OperationCanceledException)
        {
            pool._broker.Logger.LogInformation("Stopping pool {Pool}: its workers give back their unfinished tasks", name);
        }
    }

    /// <summary>How often <see cref="ServeAsync"/> logs its workers' health: 30 seconds.</summary>
    public static TimeSpan HealthInterval { get; } = TimeSpan.FromSeconds(30);

    /// <summary>Runs <paramref name="func"/> in a worker; Python's <c>apply_async</c>. Cancelling ends the wait at
    /// once: the result is cancelled and its answer, should one come, dropped; a task already sent still runs.</summary>
    public AsyncResult<TResult> ApplyAsync<TResult>(Delegate func, object?[] args, Action<TResult>? callback = null, Action<Exception>? errorCallback = null,
        CancellationToken cancellationToken = default)
    {
        var (task, result) = PrepareApply(func, args, callback, errorCallback);
        if (!cancellationToken.IsCancellationRequested)
        {
            CancelWith(result, Send(task), cancellationToken);
        }
        else
        {
            result.Cancel(cancellationToken);
        }
        return result;
    }

    /// <summary>Cancels <paramref name="result"/> when <paramref name="cancellationToken"/> fires before it is done,
    /// and stops waiting for the answers of its tasks <paramref name="ids"/>.</summary>
    private void CancelWith<T>(AsyncResult<T> result, long[] ids, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            return;
        }
        var registration = cancellationToken.Register(() =>
        {
            var forgotten = false;
            foreach (var id in ids)
            {
                forgotten |= _pending.TryRemove(id, out _);
            }
            if (forgotten)
            {
                result.Cancel(cancellationToken);
                CheckDrained();
                _ = _cancellations.CancelAsync(ids);
            }
        });
        result.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Checks and writes a call of <paramref name="func"/> now, to be sent by <see cref="Send"/> now or later:
    /// a target that is not a pool task or an argument that cannot travel fails here, at the caller.</summary>
    internal (PreparedTask Task, AsyncResult<TResult> Result) PrepareApply<TResult>(Delegate func, object?[] args,
        Action<TResult>? callback = null, Action<Exception>? errorCallback = null)
    {
        var result = new AsyncResult<TResult>(callback, errorCallback);
        var method = func.Method;
        return (new(method, Arguments(method, [args]), reply => Deliver(result, reply, values => (true, Results<TResult>(method, values)[0]))), result);
    }

    /// <summary>Checks and writes one chunk of a map of <paramref name="method"/> over <paramref name="items"/>, as
    /// <see cref="PrepareApply"/> does a call.</summary>
    internal (PreparedTask Task, AsyncResult<List<TResult>> Result) PrepareChunk<TArg, TResult>(MethodInfo method, TArg[] items)
    {
        var result = new AsyncResult<List<TResult>>(null, null);
        return (new(method, Chunk.WriteItems(_broker.Serializer, method, items), reply =>
            Deliver(result, reply, values => (true, Results<TResult>(method, values).ToList()))), result);
    }

    /// <summary>Sends a prepared task; a task of a call the pool <paramref name="acceptedEarlier"/> (an Imap's) still
    /// goes after <see cref="Close"/>.</summary>
    internal long[] Send(PreparedTask task, bool acceptedEarlier = false) => Submit(task.Method, task.Calls, task.OnResult, acceptedEarlier);

    /// <summary>Runs <paramref name="func"/> in a worker and waits for its result; Python's <c>apply</c>.</summary>
    /// <exception cref="RemoteTaskException">The task raised in its worker.</exception>
    public TResult Apply<TResult>(Delegate func, params object?[] args) => ApplyAsync<TResult>(func, args).Get();

    /// <summary>Applies <paramref name="func"/> to every item, in chunks of <paramref name="chunksize"/> (by default
    /// the items spread in four chunks per worker, as Python does); the results keep the items' order.
    /// <paramref name="progress"/> hears of each chunk whose results are in; cancelling ends the wait at once, as
    /// <see cref="ApplyAsync"/>'s does.</summary>
    public AsyncResult<List<TResult>> MapAsync<TArg, TResult>(Func<TArg, TResult> func, IEnumerable<TArg> items, int? chunksize = null,
        Action<List<TResult>>? callback = null, Action<Exception>? errorCallback = null, IProgress<PoolProgress>? progress = null,
        CancellationToken cancellationToken = default) =>
        MapChunksAsync<TArg, TResult>(func.Method, items, chunksize, Chunk.WriteItems, callback, errorCallback, progress, cancellationToken);

    /// <summary>Python's <c>map</c>.</summary>
    public List<TResult> Map<TArg, TResult>(Func<TArg, TResult> func, IEnumerable<TArg> items, int? chunksize = null) =>
        MapAsync(func, items, chunksize).Get();

    /// <summary>Like <see cref="MapAsync"/>, each item being the list of <paramref name="func"/>'s arguments.</summary>
    public AsyncResult<List<TResult>> StarmapAsync<TResult>(Delegate func, IEnumerable<object?[]> argumentLists, int? chunksize = null,
        Action<List<TResult>>? callback = null, Action<Exception>? errorCallback = null, IProgress<PoolProgress>? progress = null,
        CancellationToken cancellationToken = default) =>
        MapChunksAsync<object?[], TResult>(func.Method, argumentLists, chunksize, Chunk.WriteArguments, callback, errorCallback, progress, cancellationToken);

    private AsyncResult<List<TResult>> MapChunksAsync<TItem, TResult>(MethodInfo method, IEnumerable<TItem> items, int? chunksize,
        ChunkWriter<TItem> write, Action<List<TResult>>? callback, Action<Exception>? errorCallback, IProgress<PoolProgress>? progress,
        CancellationToken cancellationToken)
    {
        var result = new AsyncResult<List<TResult>>(callback, errorCallback);
        var list = items as IReadOnlyCollection<TItem> ?? items.ToList();
        var chunks = Chunks(method, list, chunksize ?? DefaultChunkSize(list.Count), write);
        var values = new TResult[list.Count];
        var left = chunks.Count;
        var done = 0;
        if (cancellationToken.IsCancellationRequested)
        {
            result.Cancel(cancellationToken);
            return result;
        }
        if (left == 0)
        {
            result.Complete([]);
        }
        var offset = 0;
        var tasks = new List<(Calls Calls, Action<PoolResult> OnResult)>(chunks.Count);
        foreach (var calls in chunks)
        {
            var start = offset;
            offset += calls.Count;
            tasks.Add((calls, reply => Deliver(result, reply, chunkValues =>
            {
                Results<TResult>(method, chunkValues).CopyTo(values, start);
                progress?.Report(new PoolProgress(Interlocked.Add(ref done, calls.Count), list.Count));
                return Interlocked.Decrement(ref left) == 0 ? (true, values.ToList()) : (false, null!);
            })));
        }
        CancelWith(result, Submit(method, InMessages(tasks)), cancellationToken);
        return result;
    }

    /// <summary>Python's <c>starmap</c>.</summary>
    public List<TResult> Starmap<TResult>(Delegate func, IEnumerable<object?[]> argumentLists, int? chunksize = null) =>
        StarmapAsync<TResult>(func, argumentLists, chunksize).Get();

    /// <summary>Python's <c>imap</c>: results in the items' order, each as soon as it and those before it are in.
    /// <paramref name="items"/> is read as the results are: at most two chunks a worker are out at once, so a long or
    /// endless source is fine. A source that throws ends the results where it threw, after those of the items before.
    /// A pool closed meanwhile still runs what an Imap begun before reads; <see cref="Join"/> waits for it until its
    /// results are read to the end or the enumeration is disposed. <paramref name="progress"/> hears of each chunk whose results are in (see <see cref="PoolProgress"/>).</summary>
    public IEnumerable<TResult> Imap<TArg, TResult>(Func<TArg, TResult> func, IEnumerable<TArg> items, int chunksize = 1,
        IProgress<PoolProgress>? progress = null) =>
        Ordered(new ImapFeed<TArg, TResult>(this, func.Method, items, chunksize, progress), CancellationToken.None).ToBlockingEnumerable();

    /// <summary><see cref="Imap"/> as an async stream: results in the items' order, awaited rather than waited for.
    /// Cancelling ends the wait for the next result, and the stream; the tasks already sent still run.</summary>
    public IAsyncEnumerable<TResult> ImapAsync<TArg, TResult>(Func<TArg, TResult> func, IEnumerable<TArg> items, int chunksize = 1,
        IProgress<PoolProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Ordered(new ImapFeed<TArg, TResult>(this, func.Method, items, chunksize, progress), cancellationToken);

    /// <summary>Python's <c>imap_unordered</c>: results as they come, the source read as they are (see <see cref="Imap"/>).</summary>
    public IEnumerable<TResult> ImapUnordered<TArg, TResult>(Func<TArg, TResult> func, IEnumerable<TArg> items, int chunksize = 1,
        IProgress<PoolProgress>? progress = null) =>
        Unordered(new ImapFeed<TArg, TResult>(this, func.Method, items, chunksize, progress), CancellationToken.None).ToBlockingEnumerable();

    /// <summary><see cref="ImapUnordered"/> as an async stream, cancelled as <see cref="ImapAsync"/> is.</summary>
    public IAsyncEnumerable<TResult> ImapUnorderedAsync<TArg, TResult>(Func<TArg, TResult> func, IEnumerable<TArg> items, int chunksize = 1,
        IProgress<PoolProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Unordered(new ImapFeed<TArg, TResult>(this, func.Method, items, chunksize, progress), cancellationToken);

    private static async IAsyncEnumerable<TResult> Ordered<TArg, TResult>(ImapFeed<TArg, TResult> feed,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using (feed)
        {
            var inFlight = new System.Collections.Generic.Queue<AsyncResult<List<TResult>>>();
            while (true)
            {
                while (inFlight.Count < feed.Window && feed.SubmitNext(whenDone: null) is { } next)
                {
                    inFlight.Enqueue(next);
                }
                if (!inFlight.TryDequeue(out var oldest))
                {
                    break;
                }
                var results = await oldest.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                feed.Report(results.Count);
                foreach (var result in results)
                {
                    yield return result;
                }
            }
            feed.ThrowIfSourceFailed();
        }
    }

    private static async IAsyncEnumerable<TResult> Unordered<TArg, TResult>(ImapFeed<TArg, TResult> feed,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using (feed)
        {
            var finished = Channel.CreateUnbounded<AsyncResult<List<TResult>>>();
            var inFlight = 0;
            while (true)
            {
                while (inFlight < feed.Window && feed.SubmitNext(done => finished.Writer.TryWrite(done)) is not null)
                {
                    inFlight++;
                }
                if (inFlight == 0)
                {
                    break;
                }
                var done = await finished.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                inFlight--;
                var results = await done.Task.ConfigureAwait(false);
                feed.Report(results.Count);
                foreach (var result in results)
                {
                    yield return result;
                }
            }
            feed.ThrowIfSourceFailed();
        }
    }

    /// <summary>No more tasks; Python's <c>close</c>. Workers end once the queued tasks are done (<see cref="Join"/>).</summary>
    public void Close()
    {
        lock (_gate)
        {
            if (_state == State.Running)
            {
                _state = State.Closed;
            }
        }
    }

    /// <summary>Waits for every task, then for the workers to end; Python's <c>join</c>, after <see cref="Close"/> or
    /// <see cref="Terminate"/>. After disposal (the end of a <c>using</c>, which terminated the pool) it returns at once.</summary>
    /// <exception cref="InvalidOperationException">The pool is still running.</exception>
    public async ValueTask JoinAsync(CancellationToken cancellationToken = default)
    {
        State state;
        lock (_gate)
        {
            state = _state;
        }
        if (_disposed)
        {
            return;
        }
        if (state == State.Running)
        {
            throw new InvalidOperationException("Close or Terminate the pool before joining it.");
        }
        if (state == State.Closed)
        {
            // Every task submitted is pending until its answer is handed over (or its message could not be sent).
            CheckDrained();
            await _drained.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            await _stopSupervising.CancelAsync().ConfigureAwait(false);
            await _supervising.ConfigureAwait(false);
            foreach (var _ in Workers())
            {
                await _tasks.PutAsync(TaskBatch.StopWorker, null, cancellationToken).ConfigureAwait(false);
            }
        }
        foreach (var worker in Workers())
        {
            await worker.JoinAsync(null, cancellationToken).ConfigureAwait(false);
        }
        await _stopCollecting.CancelAsync().ConfigureAwait(false);
        await _collecting.ConfigureAwait(false);
    }

    /// <summary>Python's <c>join</c>.</summary>
    public void Join() => Sync.Run(JoinAsync());

    /// <summary>Stops the workers at once; unfinished tasks fail with <see cref="BrokerException"/>. Python's <c>terminate</c>.</summary>
    public async ValueTask TerminateAsync()
    {
        lock (_gate)
        {
            if (_state == State.Terminated)
            {
                return;
            }
            _state = State.Terminated;
        }
        Observed.Remove(this);
        // Tasks that take a token hear of the end first, wherever they run: a worker host's go on after this.
        await _cancellations.CancelAllAsync().ConfigureAwait(false);
        await _stopSupervising.CancelAsync().ConfigureAwait(false);
        await _supervising.ConfigureAwait(false);
        foreach (var worker in Workers())
        {
            worker.Terminate();
        }
        foreach (var worker in Workers())
        {
            if (!await worker.JoinAsync(StopGrace).ConfigureAwait(false))
            {
                worker.Kill();
                await worker.JoinAsync().ConfigureAwait(false);
            }
        }
        foreach (var id in _pending.Keys)
        {
            Answer(new PoolResult(id, null, new RemoteError(nameof(BrokerException), "The pool was terminated before the task finished.", null)));
        }
        await _stopCollecting.CancelAsync().ConfigureAwait(false);
    }

    /// <summary>Python's <c>terminate</c>; see <see cref="TerminateAsync"/>.</summary>
    public void Terminate() => Sync.Run(TerminateAsync());

    /// <summary>Terminates the pool, as leaving Python's <c>with Pool() as p:</c> does, and releases its workers.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        await TerminateAsync().ConfigureAwait(false);
        await _collecting.ConfigureAwait(false);
        await _cancellations.ForgetAllAsync().ConfigureAwait(false);
        if (_heartbeat is not null)
        {
            await _heartbeat.DisposeAsync().ConfigureAwait(false);
        }
        foreach (var worker in Workers())
        {
            worker.Close();
        }
        _stopSupervising.Dispose();
        _stopCollecting.Dispose();
        _disposed = true;
    }

    /// <summary>Python's <c>terminate()</c> as the <c>with</c> block ends it; see <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => Sync.Run(DisposeAsync());

    private static string TaskQueueName(string pool) => $"pool.{pool}.tasks";

    private List<Process> Workers()
    {
        lock (_gate)
        {
            return [.. _workers];
        }
    }

    /// <summary>The source of an Imap, read a chunk at a time as its results are read.</summary>
    private sealed class ImapFeed<TArg, TResult> : IDisposable
    {
        private readonly Pool _pool;
        private readonly MethodInfo _method;
        private readonly IEnumerator<TArg[]> _chunks;
        private readonly IProgress<PoolProgress>? _progress;
        private System.Runtime.ExceptionServices.ExceptionDispatchInfo? _sourceFailure;
        private int _ended;
        private int _read;
        private int _done;

        public ImapFeed(Pool pool, MethodInfo method, IEnumerable<TArg> items, int chunksize, IProgress<PoolProgress>? progress)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(chunksize, 1);
            PoolTargets.Check(method);
            lock (pool._gate)
            {
                pool.ThrowUnlessTaking(acceptedEarlier: false);
                // Join waits for this feed as for a task pending.
                pool._feeds++;
            }
            (_pool, _method, _chunks, _progress) = (pool, method, items.Chunk(chunksize).GetEnumerator(), progress);
        }

        /// <summary>Tells the progress of <paramref name="results"/> more in; the total is known once the source ended.</summary>
        public void Report(int results)
        {
            _done += results;
            _progress?.Report(new PoolProgress(_done, _ended == 1 ? _read : null));
        }

        /// <summary>Chunks out at once at the most: two a worker (see <see cref="CountedWorkers"/>).</summary>
        public int Window => _pool.CountedWorkers * 2;

        /// <summary>Reads and submits the next chunk; null at the source's end or once it threw.</summary>
        public AsyncResult<List<TResult>>? SubmitNext(Action<AsyncResult<List<TResult>>>? whenDone)
        {
            if (_ended == 1)
            {
                return null;
            }
            try
            {
                if (!_chunks.MoveNext())
                {
                    Dispose();
                    return null;
                }
            }
            catch (Exception e)
            {
                _sourceFailure = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
                Dispose();
                return null;
            }
            _read += _chunks.Current.Length;
            var (task, result) = _pool.PrepareChunk<TArg, TResult>(_method, _chunks.Current);
            if (whenDone is not null)
            {
                result.Task.ContinueWith(_ => whenDone(result), TaskScheduler.Default);
            }
            _pool.Send(task, acceptedEarlier: true);
            return result;
        }

        public void ThrowIfSourceFailed() => _sourceFailure?.Throw();

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0)
            {
                _chunks.Dispose();
                lock (_pool._gate)
                {
                    _pool._feeds--;
                }
                _pool.CheckDrained();
            }
        }
    }

    /// <summary>Writes the calls of one chunk for <paramref name="method"/>: the items of a map, or argument lists.</summary>
    private delegate Calls ChunkWriter<TItem>(JsonBrokerSerializer serializer, MethodInfo method, TItem[] items);

    /// <summary>The items cut into chunks of <paramref name="chunksize"/>, each written once for its task.</summary>
    private List<Calls> Chunks<TItem>(MethodInfo method, IEnumerable<TItem> items, int chunksize, ChunkWriter<TItem> write)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunksize, 1);
        PoolTargets.Check(method);
        return items.Chunk(chunksize).Select(chunk => write(_broker.Serializer, method, chunk)).ToList();
    }

    /// <summary>Python's: four chunks a worker (see <see cref="CountedWorkers"/>).</summary>
    private int DefaultChunkSize(int count)
    {
        var chunks = CountedWorkers * 4;
        return Math.Max(1, (count + chunks - 1) / chunks);
    }

    /// <summary>The workers that chunking counts: this pool's, or one for a pool served by worker hosts alone, whose
    /// number it does not know.</summary>
    private int CountedWorkers => Math.Max(1, Processes);

    /// <summary>A map's chunks in as few messages as hold them within <see cref="MostMapMessageBytes"/>: in one, a
    /// worker that cannot start them all soon gives back the rest as one message, which the next free worker takes, so
    /// that the chunks start in Python's order (see <see cref="PoolWorker"/>). Shares dealt to several messages would
    /// be given back to the queue's tail apart, and a worker could then start a chunk before the one ahead of it.</summary>
    private static List<List<(Calls Calls, Action<PoolResult> OnResult)>> InMessages(List<(Calls Calls, Action<PoolResult> OnResult)> tasks)
    {
        var messages = new List<List<(Calls Calls, Action<PoolResult> OnResult)>>();
        var filled = MostMapMessageBytes;
        foreach (var task in tasks)
        {
            var size = task.Calls.Json.Utf8.Length;
            if (filled + size > MostMapMessageBytes)
            {
                messages.Add([]);
                filled = 0;
            }
            messages[^1].Add(task);
            filled += size;
        }
        return messages;
    }

    private Calls Arguments(MethodInfo method, IReadOnlyCollection<object?[]> argumentLists)
    {
        PoolTargets.Check(method);
        return Chunk.WriteArguments(_broker.Serializer, method, argumentLists);
    }

    private TResult[] Results<TResult>(MethodInfo method, RawJson values) => Chunk.ReadResults<TResult>(_broker.Serializer, method, values);

    /// <summary>Sends a task of <paramref name="calls"/>; its answer goes to <paramref name="onResult"/>.</summary>
    private long[] Submit(MethodInfo method, Calls calls, Action<PoolResult> onResult, bool acceptedEarlier = false) =>
        Submit(method, [[(calls, onResult)]], acceptedEarlier);

    /// <summary>Sends messages of tasks, each task answered to its own callback. Tasks of a call the pool
    /// <paramref name="acceptedEarlier"/> (an Imap's) still go after <see cref="Close"/>. Several messages (a large
    /// map's) go alone and together, in one trip where the transport can, so that none waits behind others' tasks.
    /// Returns the tasks' ids.</summary>
    private long[] Submit(MethodInfo method, IReadOnlyList<IReadOnlyList<(Calls Calls, Action<PoolResult> OnResult)>> messages, bool acceptedEarlier = false)
    {
        lock (_gate)
        {
            ThrowUnlessTaking(acceptedEarlier);
        }
        if (messages.Count == 0)
        {
            return [];
        }
        var target = PoolTargets.Name(method);
        var cancellable = Chunk.TakesCancellation(method);
        if (cancellable)
        {
            // The tokens travel through a map and a value: a broker without them refuses the task here.
            _ = (_broker.Maps, _broker.Values);
        }
        // The send's span lasts until the broker has the tasks; the caller's own activity stays current.
        var caller = Activity.Current;
        var activity = Telemetry.Start(_broker, QueueName, Telemetry.SendOperation, "submit", ActivityKind.Producer);
        activity?.SetTag("broker.pool.task", TaskName(method));
        Activity.Current = caller;
        var (traceParent, traceState) = TraceEnvelope.Of(activity ?? caller);
        var outgoing = new PoolTask[messages.Count][];
        for (var m = 0; m < outgoing.Length; m++)
        {
            outgoing[m] = [.. messages[m].Select(task =>
            {
                var id = Interlocked.Increment(ref _lastId);
                _pending[id] = task.OnResult;
                if (cancellable)
                {
                    _cancellations.Track(id);
                }
                return new PoolTask(id, target, task.Calls.Json, task.Calls.OneArgumentEach, traceParent, traceState);
            })];
        }
        // Like Python's apply_async, submitting does not wait for the broker; a message that cannot be sent fails its tasks.
        var tasks = messages.SelectMany(message => message).ToList();
        IReadOnlyList<BrokerHandle> uncreated = tasks.Any(task => task.Calls.Uncreated.Count > 0) ? [.. tasks.SelectMany(task => task.Calls.Uncreated)] : [];
        _ = SubmitAsync(outgoing, outgoing.Length > 1 ? MostCallsPerMessage : tasks.Sum(task => task.Calls.Count), uncreated, activity);
        return [.. outgoing.SelectMany(message => message).Select(task => task.Id)];
    }

    /// <summary>How spans name a task's target: its type and method.</summary>
    internal static string TaskName(MethodInfo method) => $"{method.DeclaringType?.Name}.{method.Name}";

    /// <summary>Sends <paramref name="messages"/>, with those waiting to go, once the handles they carry exist, and
    /// fails their tasks if they cannot go; <paramref name="calls"/> is how many of a message's
    /// <see cref="MostCallsPerMessage"/> calls they fill.</summary>
    private async Task SubmitAsync(PoolTask[][] messages, int calls, IReadOnlyList<BrokerHandle> uncreated, Activity? activity)
    {
        using var span = activity;
        try
        {
            await HandlesWritten.CreateAsync(uncreated, CancellationToken.None).ConfigureAwait(false);
            await _outbox.CommitAsync((messages, calls), CancellationToken.None).ConfigureAwait(false);
            Telemetry.Count(Telemetry.Sent, _broker, QueueName, messages.Sum(message => message.Length));
        }
        catch (Exception e)
        {
            Telemetry.Failed(activity, e);
            var error = RemoteError.From(e);
            foreach (var task in messages.SelectMany(message => message))
            {
                _cancellations.Answered(task.Id);
                Answer(new PoolResult(task.Id, null, error));
            }
        }
    }

    /// <summary>Sends what was submitted meanwhile as one message, or a large map's messages side by side.</summary>
    private async Task<IReadOnlyList<bool>> SendAsync(IReadOnlyList<(PoolTask[][] Messages, int Calls)> submitted)
    {
        if (submitted is [{ Messages.Length: > 1 } shares])
        {
            await _tasks.PutAllAsync([.. shares.Messages.Select(Batch)], CancellationToken.None).ConfigureAwait(false);
        }
        else
        {
            await _tasks.PutAsync(Batch([.. submitted.SelectMany(each => each.Messages[0])])).ConfigureAwait(false);
        }
        return new bool[submitted.Count];
    }

    private TaskBatch Batch(PoolTask[] tasks) => new(tasks, _results.Name, _maxTaskAttempts);

    /// <summary>Hands a task's answer to its caller, unless it was answered already: a task run twice (its first worker
    /// died after replying) answers twice, and the first answer stands.</summary>
    private void Answer(PoolResult result)
    {
        if (_pending.TryRemove(result.Id, out var pending))
        {
            if (result.TraceParent is not null)
            {
                // The trace comes back with the answer: a span of its own, the child of the one that ran the task.
                using var activity = Telemetry.Start(_broker, QueueName, Telemetry.ReceiveOperation, "result", ActivityKind.Consumer,
                    TraceEnvelope.Parse(result.TraceParent, result.TraceState));
                if (result.Error is { } error)
                {
                    Telemetry.Failed(activity, error.Type, error.Message);
                }
            }
            pending(result);
            CheckDrained();
        }
    }

    /// <summary>Refuses new tasks unless the pool runs; a call it <paramref name="acceptedEarlier"/> (an Imap's) may
    /// still send after <see cref="Close"/>. Called holding the gate.</summary>
    private void ThrowUnlessTaking(bool acceptedEarlier)
    {
        if (_state != State.Running && !(acceptedEarlier && _state == State.Closed))
        {
            throw new InvalidOperationException($"The pool is {_state.ToString().ToLowerInvariant()}: it takes no more tasks.");
        }
    }

    private void CheckDrained()
    {
        bool ending;
        lock (_gate)
        {
            ending = _state != State.Running && _feeds == 0;
        }
        if (ending && _pending.IsEmpty)
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>Completes <paramref name="result"/> from a reply: with the error, or with what
    /// <paramref name="read"/> makes of the values once it says the result is whole (other chunks may still be out).</summary>
    private static void Deliver<T>(AsyncResult<T> result, PoolResult reply, Func<RawJson, (bool Whole, T Value)> read)
    {
        if (reply.Error is { } error)
        {
            result.Fail(error.ToException());
            return;
        }
        try
        {
            if (read(reply.Values ?? throw new BrokerSerializationException("A pool worker's reply holds neither results nor an error.")) is (true, var value))
            {
                result.Complete(value);
            }
        }
        catch (BrokerSerializationException e)
        {
            result.Fail(e);
        }
    }

    private async Task CollectAsync()
    {
        try
        {
            while (true)
            {
                foreach (var reply in await _results.GetManyAsync(MostRepliesAtOnce, _stopCollecting.Token).ConfigureAwait(false))
                {
                    foreach (var result in reply.Results)
                    {
                        _cancellations.Answered(result.Id);
                        Answer(result);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Replaces a worker that ended while the pool runs: killed, crashed, or done with its
    /// <c>maxTasksPerChild</c>. Its unfinished task is delivered again by the queue.</summary>
    private async Task SuperviseAsync()
    {
        try
        {
            while (true)
            {
                var workers = Workers();
                var ended = await Task.WhenAny(workers.Select(w => w.JoinAsync(null, _stopSupervising.Token).AsTask())).ConfigureAwait(false);
                await ended.ConfigureAwait(false);
                lock (_gate)
                {
                    if (_state != State.Running && _state != State.Closed)
                    {
                        return;
                    }
                    foreach (var worker in _workers.Where(w => w.ExitCode is not null).ToList())
                    {
                        if (worker.ExitCode != 0)
                        {
                            _broker.Logger.LogWarning("Pool worker {Worker} (pid {Pid}) ended with exit code {ExitCode}; starting another",
                                worker.Name, worker.Pid, worker.ExitCode);
                        }
                        worker.Close();
                        _workers.Remove(worker);
                        var replacement = _newWorker();
                        replacement.Start();
                        _workers.Add(replacement);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private PoolCall Call(Delegate initializer, object?[] args)
    {
        var calls = Chunk.WriteArguments(_broker.Serializer, initializer.Method, [args]);
        _initializerHandles = calls.Uncreated;
        return new(TargetReference.Of(initializer.Method, initializer.Target), calls.Json);
    }
}
