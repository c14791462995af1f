using Broker.Diagnostics;
using Broker.Serialization;
using Broker.Transport;
using Microsoft.Extensions.Logging;

namespace Broker;

/// <summary>A connection to one broker (or a composite of several), chosen by URL, like a
/// <c>multiprocessing</c> context. Every primitive belongs to one; those created without one use
/// <see cref="Default"/>, which child processes inherit.</summary>
public sealed class BrokerContext : IAsyncDisposable
{
    /// <summary>The environment variable naming the default broker: <c>BROKER_URL</c>.</summary>
    public const string UrlVariable = "BROKER_URL";

    /// <summary>The embedded broker, hosted by this process for its children: <c>local://</c>.</summary>
    public const string LocalUrl = "local://";

    private static readonly System.Threading.Lock s_defaultGate = new();
    private static BrokerContext? s_default;

    private readonly IReadOnlyList<ITransport> _transports;
    private readonly Lazy<IQueueBackend> _queues;
    private readonly Lazy<string> _messagingSystem;
    private readonly Lazy<ILockBackend> _locks;
    private readonly Lazy<IValueBackend> _values;
    private readonly Lazy<IMapBackend> _maps;
    private readonly Lazy<IListBackend> _lists;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Queue, int MaxSize), Task> _declared = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, System.Collections.Concurrent.ConcurrentStack<HeldPermit>> _heldPermits = new(StringComparer.Ordinal);
    private int _disposed;

    private BrokerContext(string url, BrokerOptions options)
    {
        var urls = BrokerUrl.ParseList(url);
        Options = options;
        Url = string.Join(",", urls.Select(u => u.Display));
        Logger = options.LoggerFactory.CreateLogger("Broker");
        Serializer = new JsonBrokerSerializer(this, options.ResolveSerializerOptions());
        _transports = urls.Select(u => CreateTransport(u, options)).ToArray();
        _queues = new(() => Place(t => t.Queues, "queues"));
        _locks = new(() => Place(t => t.Locks, "locks"));
        _values = new(() => Place(t => t.Values, "values"));
        _maps = new(() => Place(t => t.Maps, "dictionaries"));
        _lists = new(() => Place(t => t.Lists, "lists"));
        _messagingSystem = new(() => urls.Zip(_transports).Where(u => u.Second.Queues is not null)
            .Select(u => u.Second.MessagingSystem ?? u.First.Scheme).FirstOrDefault() ?? "broker");
        Observed.Add(this);
    }

    /// <summary>The process-wide context: the one given to <see cref="Configure"/>, else the URL in
    /// <c>BROKER_URL</c>, else <c>local://</c>, with the settings of <see cref="BrokerOptions.FromEnvironment"/>, so that
    /// a child has its parent's.</summary>
    public static BrokerContext Default
    {
        get
        {
            lock (s_defaultGate)
            {
                return s_default ??= new BrokerContext(Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } url ? url : LocalUrl, BrokerOptions.FromEnvironment());
            }
        }
    }

    /// <summary>The URL with passwords hidden.</summary>
    public string Url { get; }

    /// <summary>The settings this context was made with.</summary>
    public BrokerOptions Options { get; }

    internal ILogger Logger { get; }

    internal JsonBrokerSerializer Serializer { get; }

    internal IQueueBackend Queues => _queues.Value;

    internal ILockBackend Locks => _locks.Value;

    internal IValueBackend Values => _values.Value;

    internal IMapBackend Maps => _maps.Value;

    internal IListBackend Lists => _lists.Value;

    /// <summary>The <c>messaging.system</c> of this context's spans and metrics: that of the transport its queues are on.</summary>
    internal string MessagingSystem => _messagingSystem.Value;

    /// <summary>The queues this context has declared, whose depth a metrics collector reads.</summary>
    internal IEnumerable<string> DeclaredQueues => _declared.Keys.Select(k => k.Queue).Distinct();

    /// <summary>The owned permits of the semaphore <paramref name="name"/> that this process holds: any handle on it in
    /// this process releases them, as any thread releases a Python semaphore.</summary>
    internal System.Collections.Concurrent.ConcurrentStack<HeldPermit> HeldPermits(string name) =>
        _heldPermits.GetOrAdd(name, static _ => new());

    /// <summary>Declares a queue once per context, however many handles name it: a worker that answers each task
    /// through a new handle on its caller's queue costs no round trip per task. A declaration that failed is tried
    /// again by the next handle.</summary>
    internal Task DeclareQueueAsync(string queue, int maxSize)
    {
        var key = (queue, maxSize);
        var declared = _declared.GetOrAdd(key, k => Queues.DeclareAsync(k.Queue, k.MaxSize, CancellationToken.None).AsTask());
        if (!declared.IsCompletedSuccessfully)
        {
            // Forget a failure as soon as it happens, or here if it happened before the task was stored.
            _ = declared.ContinueWith(failed => _declared.TryRemove(new KeyValuePair<(string, int), Task>(key, failed)),
                CancellationToken.None, TaskContinuationOptions.NotOnRanToCompletion, TaskScheduler.Default);
        }
        return declared;
    }

    /// <summary>Disposes the default context if this process created it; a child does so as it exits, so that what it
    /// held goes back to the broker at once.</summary>
    internal static ValueTask DisposeDefaultAsync()
    {
        BrokerContext? created;
        lock (s_defaultGate)
        {
            created = s_default;
        }
        return created?.DisposeAsync() ?? default;
    }

    /// <summary>Sets the process-wide default before anything uses it, as <c>multiprocessing.set_start_method</c>
    /// is called once at start-up.</summary>
    /// <exception cref="InvalidOperationException">The default is already in use with another URL.</exception>
    public static BrokerContext Configure(string url, BrokerOptions? options = null)
    {
        lock (s_defaultGate)
        {
            if (s_default is not null)
            {
                throw new InvalidOperationException($"The default broker is already {s_default.Url}: call Configure once, before creating any queue, lock, value or process.");
            }
            return s_default = new BrokerContext(url, options ?? new BrokerOptions());
        }
    }

    /// <summary>Opens a context of its own on <paramref name="url"/>, beside the default.</summary>
    /// <exception cref="BrokerUrlException">The URL is malformed or no installed transport serves its scheme.</exception>
    public static BrokerContext Connect(string url, BrokerOptions? options = null) => new(url, options ?? new BrokerOptions());

    /// <summary>Makes one round trip to each broker this context uses, as a health check does; a broker that does not
    /// answer is tried again, as any call is, until its retry budget runs out or <paramref name="cancellationToken"/>
    /// fires.</summary>
    /// <exception cref="BrokerUnavailableException">A broker did not answer.</exception>
    public async ValueTask PingAsync(CancellationToken cancellationToken = default)
    {
        foreach (var transport in _transports)
        {
            await transport.PingAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The URL a child process uses to reach the same brokers; it may carry credentials.</summary>
    internal async ValueTask<string> ShareAsync(CancellationToken cancellationToken)
    {
        var shared = new string[_transports.Count];
        for (var i = 0; i < shared.Length; i++)
        {
            shared[i] = await _transports[i].ShareAsync(cancellationToken).ConfigureAwait(false);
        }
        return string.Join(",", shared);
    }

    /// <summary>Closes every transport; safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        Observed.Remove(this);
        foreach (var transport in _transports)
        {
            await transport.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Url;

    private static ITransport CreateTransport(BrokerUrl url, BrokerOptions options)
    {
        var factory = options.Transports.FirstOrDefault(f => f.Schemes.Contains(url.Scheme))
            ?? Installed.Transport(url.Scheme)
            ?? throw new BrokerUrlException(
                $"No installed transport serves '{url.Display}': add the package that serves {url.Scheme}:// to the " +
                "application (Broker for local://, Broker.Transport.Redis for redis://, Broker.Transport.RabbitMq for " +
                "amqp://), or give its factory in BrokerOptions.Transports.");
        return factory.Create(url, options);
    }

    /// <summary>Whether a transport of this context keeps what <paramref name="keeps"/> asks for.</summary>
    internal bool Keeps<T>(Func<ITransport, T?> keeps) where T : class => _transports.Any(t => keeps(t) is not null);

    private T Place<T>(Func<ITransport, T?> keeps, string primitive) where T : class =>
        _transports.Select(keeps).FirstOrDefault(b => b is not null)
        ?? throw new PrimitiveNotSupportedException(
            $"No transport in '{Url}' keeps {primitive} correctly. List one that does after it in a composite URL, " +
            $"such as '{Url},redis://127.0.0.1:6379' (Redis keeps queues, locks, values, dictionaries and lists).");
}
