using DotNet.Testcontainers.Builders;
using Xunit;

namespace Broker.Testing;

/// <summary>A broker server for the tests of one class (<c>IClassFixture</c>) or collection
/// (<c>ICollectionFixture</c>): the server at the URL given to the constructor, else the one an environment variable
/// names, else a throwaway Testcontainers container where a Docker engine runs. With none of these, or when the
/// server does not answer, <see cref="InitializeAsync"/> raises <see cref="BrokerUnavailableException"/> saying what
/// to set, so a test without its server fails: it never passes silently.</summary>
/// <remarks>Each <see cref="ConnectAsync"/> and <see cref="NewIsolatedUrlAsync"/> makes a namespace of its own on the
/// server (a key prefix on Redis, a virtual host on RabbitMQ), so tests that run side by side never see each other's
/// queues, locks or values; <see cref="Url"/> is the fixture's own. When the fixture ends, it closes the contexts it
/// made and deletes every namespace with what is in it.</remarks>
public abstract class BrokerServerFixture : IAsyncLifetime
{
    private readonly string? _given;
    private readonly System.Threading.Lock _gate = new();
    private readonly List<string> _namespaces = [];
    private readonly List<BrokerContext> _contexts = [];
    private string? _serverUrl;
    private string? _url;

    /// <param name="serverUrl">The server's URL; null for the one <see cref="Variable"/> names, or a container.</param>
    protected BrokerServerFixture(string? serverUrl) => _given = serverUrl;

    /// <summary>The environment variable that names a server, such as <c>BROKER_TEST_REDIS</c>.</summary>
    public abstract string Variable { get; }

    /// <summary>The server's own URL, credentials included, in no namespace of the fixture's: for tools that look at
    /// the server itself.</summary>
    /// <exception cref="InvalidOperationException">Before <see cref="InitializeAsync"/>.</exception>
    public string ServerUrl => _serverUrl ?? throw NotStarted();

    /// <summary>The URL of the fixture's own namespace, made when it starts: what the tests of one class share. A
    /// child process given a context on it works in the same namespace.</summary>
    /// <exception cref="InvalidOperationException">Before <see cref="InitializeAsync"/>.</exception>
    public string Url => _url ?? throw NotStarted();

    /// <summary>The server's name and an example URL, for messages: <c>Redis</c>, <c>redis://127.0.0.1:6379</c>.</summary>
    protected abstract (string Name, string ExampleUrl) Server { get; }

    /// <summary><see cref="Url"/> with more transport settings, such as <c>lease=2s&amp;poll=100ms</c>.</summary>
    public string UrlWith(string settings) => WithSettings(Url, settings);

    /// <summary>Makes a new namespace on the server and returns its URL; it is deleted when the fixture ends.</summary>
    public async Task<string> NewIsolatedUrlAsync(CancellationToken cancellationToken = default)
    {
        var url = await IsolateAsync(ServerUrl, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _namespaces.Add(url);
        }
        return url;
    }

    /// <summary>A context on a new namespace of its own: a test's queues, locks and values, seen by no other test.
    /// The fixture closes it when it ends, if the test has not.</summary>
    public async Task<BrokerContext> ConnectAsync(BrokerOptions? options = null, CancellationToken cancellationToken = default)
    {
        var context = BrokerContext.Connect(await NewIsolatedUrlAsync(cancellationToken).ConfigureAwait(false), options);
        lock (_gate)
        {
            _contexts.Add(context);
        }
        return context;
    }

    /// <summary>Finds the server, checks that it answers, and makes <see cref="Url"/>'s namespace.</summary>
    /// <exception cref="BrokerUnavailableException">No server is named and no Docker engine runs, or the server does
    /// not answer.</exception>
    public async Task InitializeAsync()
    {
        if ((_given ?? Environment.GetEnvironmentVariable(Variable)) is { Length: > 0 } named)
        {
            _serverUrl = named;
        }
        else
        {
            try
            {
                _serverUrl = await StartContainerAsync().ConfigureAwait(false);
            }
            catch (DockerUnavailableException e)
            {
                throw new BrokerUnavailableException(
                    $"No {Server.Name} for the tests: set {Variable} to a server's URL, such as {Server.ExampleUrl}, or run a Docker engine for Testcontainers.", e);
            }
        }
        await ProbeAsync(_serverUrl).ConfigureAwait(false);
        _url = await NewIsolatedUrlAsync().ConfigureAwait(false);
    }

    /// <summary>Closes the contexts the fixture made, deletes its namespaces, and stops its container.</summary>
    public async Task DisposeAsync()
    {
        BrokerContext[] contexts;
        string[] namespaces;
        lock (_gate)
        {
            (contexts, namespaces) = ([.. _contexts], [.. _namespaces]);
            _contexts.Clear();
            _namespaces.Clear();
        }
        foreach (var context in contexts)
        {
            await context.DisposeAsync().ConfigureAwait(false);
        }
        foreach (var url in namespaces)
        {
            await DeleteAsync(url).ConfigureAwait(false);
        }
        await StopAsync().ConfigureAwait(false);
    }

    /// <summary>Starts a container and returns its server's URL.</summary>
    /// <exception cref="DockerUnavailableException">No Docker engine runs.</exception>
    protected abstract Task<string> StartContainerAsync();

    /// <summary>Raises <see cref="BrokerUnavailableException"/>, with the reason, when the server does not answer.</summary>
    protected abstract Task ProbeAsync(string serverUrl);

    /// <summary>Makes a namespace on the server and returns its URL.</summary>
    protected abstract Task<string> IsolateAsync(string serverUrl, CancellationToken cancellationToken);

    /// <summary>Deletes a namespace <see cref="IsolateAsync"/> made, and all in it.</summary>
    protected abstract Task DeleteAsync(string isolatedUrl);

    /// <summary>Releases what the fixture holds: its container, its connections.</summary>
    protected abstract Task StopAsync();

    /// <summary>The name of a new namespace: this process's id first, so that one a killed test run left behind can
    /// be known, and deleted, by a later run.</summary>
    protected static string NewNamespaceName() => $"{NamespacePrefix}{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..12]}";

    /// <summary>What every namespace's name begins with.</summary>
    protected const string NamespacePrefix = "broker-test-";

    /// <summary><paramref name="url"/> with <paramref name="settings"/> added to its query.</summary>
    protected static string WithSettings(string url, string settings) =>
        settings.Length == 0 ? url : $"{url}{(url.Contains('?', StringComparison.Ordinal) ? '&' : '?')}{settings.TrimStart('?', '&')}";

    private static InvalidOperationException NotStarted() =>
        new("The fixture has not started: xunit starts it before the tests that take it, or call InitializeAsync.");
}
