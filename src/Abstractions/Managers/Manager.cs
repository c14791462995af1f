using System.Collections.Concurrent;

namespace Broker;

/// <summary>Python's <c>multiprocessing.Manager()</c>: makes dictionaries, lists and namespaces that live on the
/// broker (<see cref="DictProxy{TKey, TValue}"/>, <see cref="ListProxy{T}"/>, <see cref="NamespaceProxy"/>), and the
/// queues, locks, events and values Python's manager proxies. Everything it makes passes to children and to pool
/// tasks as an argument, as Python's proxies do (the tutorial's <c>pool.apply_async(writer, (q,))</c>), and each
/// operation is one atomic step on the broker. No server process runs: the broker is the server.</summary>
/// <remarks><see cref="Shutdown"/>, or the end of its <c>using</c>, empties the dictionaries, lists and namespaces it
/// made, after which its own handles on them raise <see cref="ObjectDisposedException"/> (handles in other processes
/// find them empty); the queues, locks and values it made live on as those made without it do.</remarks>
public sealed class Manager : IAsyncDisposable, IDisposable
{
    private readonly ConcurrentQueue<BrokerHandle> _made = new();
    private volatile bool _shutDown;

    /// <param name="broker">The broker everything it makes lives on; <see cref="BrokerContext.Default"/> by default.</param>
    public Manager(BrokerContext? broker = null) => Context = broker ?? BrokerContext.Default;

    /// <summary>The broker everything it makes lives on.</summary>
    public BrokerContext Context { get; }

    /// <summary>Python's <c>manager.dict()</c>.</summary>
    public DictProxy<TKey, TValue> Dict<TKey, TValue>() where TKey : notnull => Made(new DictProxy<TKey, TValue>(broker: Context) { Owner = this });

    /// <summary>Python's <c>manager.list(items)</c>.</summary>
    public ListProxy<T> List<T>(IEnumerable<T>? items = null)
    {
        var list = Made(new ListProxy<T>(broker: Context) { Owner = this });
        if (items is not null)
        {
            list.Extend(items);
        }
        return list;
    }

    /// <summary>Python's <c>manager.Namespace()</c>.</summary>
    public NamespaceProxy Namespace() => Made(new NamespaceProxy(broker: Context) { Owner = this });

    /// <summary>Python's <c>manager.Queue(maxsize)</c>.</summary>
    public Queue<T> Queue<T>(int maxsize = 0) => Made(new Queue<T>(maxsize, broker: Context));

    /// <summary>Python's <c>manager.JoinableQueue(maxsize)</c>.</summary>
    public JoinableQueue<T> JoinableQueue<T>(int maxsize = 0) => Made(new JoinableQueue<T>(maxsize, broker: Context));

    /// <summary>Python's <c>manager.Lock()</c>.</summary>
    public Lock Lock() => Made(new Lock(broker: Context));

    /// <summary>Python's <c>manager.RLock()</c>.</summary>
    public RLock RLock() => Made(new RLock(broker: Context));

    /// <summary>Python's <c>manager.Semaphore(value)</c>.</summary>
    public Semaphore Semaphore(int value = 1) => Made(new Semaphore(value, broker: Context));

    /// <summary>Python's <c>manager.BoundedSemaphore(value)</c>.</summary>
    public BoundedSemaphore BoundedSemaphore(int value = 1) => Made(new BoundedSemaphore(value, broker: Context));

    /// <summary>Python's <c>manager.Event()</c>.</summary>
    public Event Event() => Made(new Event(broker: Context));

    /// <summary>Python's <c>manager.Condition(lock)</c>.</summary>
    public Condition Condition(LockHandle? @lock = null) => Made(new Condition(@lock, broker: Context));

    /// <summary>Python's <c>manager.Barrier(parties, action, timeout)</c>.</summary>
    public Barrier Barrier(int parties, Action? action = null, TimeSpan? timeout = null) => Made(new Barrier(parties, action, timeout, broker: Context));

    /// <summary>Python's <c>manager.Value(typecode, value)</c>.</summary>
    public Value<T> Value<T>(T initial = default) where T : struct, System.Numerics.INumber<T> => Made(new Value<T>(initial, broker: Context));

    /// <summary>Python's <c>manager.Array(typecode, sequence)</c>.</summary>
    public Array<T> Array<T>(IEnumerable<T> values) where T : struct, System.Numerics.INumber<T> => Made(new Array<T>(values, broker: Context));

    /// <summary>Empties the dictionaries, lists and namespaces it made and makes nothing more; Python's <c>shutdown()</c>.
    /// A second call does nothing.</summary>
    public async ValueTask ShutdownAsync(CancellationToken cancellationToken = default)
    {
        if (_shutDown)
        {
            return;
        }
        _shutDown = true;
        foreach (var collection in _made.OfType<ManagedCollection>())
        {
            await collection.ClearOnBrokerAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Python's <c>shutdown()</c>.</summary>
    public void Shutdown() => Sync.Run(ShutdownAsync());

    /// <summary>Shuts down, as leaving Python's <c>with Manager() as manager:</c> does.</summary>
    public ValueTask DisposeAsync() => ShutdownAsync();

    /// <summary>Shuts down; see <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => Shutdown();

    internal void ThrowIfShutDown(BrokerHandle handle)
    {
        if (_shutDown)
        {
            throw new ObjectDisposedException(handle.Name, $"{handle.GetType().Name} '{handle.Name}' was made by a Manager that was shut down.");
        }
    }

    private T Made<T>(T handle) where T : BrokerHandle
    {
        ObjectDisposedException.ThrowIf(_shutDown, this);
        _made.Enqueue(handle);
        return handle;
    }
}
