using Broker.Transport;
using Microsoft.Extensions.Logging;

namespace Broker.Transport.Local;

/// <summary>The broker this process hosts for its children, at <c>local://</c>. This process uses it directly. Its
/// private directory (mode 0700, removed when the process ends) is made when first needed, for the memory of locks
/// and values or for the socket, which opens on the first <see cref="ShareAsync"/>: a program that starts no child
/// never listens.</summary>
internal sealed class LocalHostTransport : ITransport
{
    private const string DirectoryPrefix = "broker-";
    private readonly LocalBroker _broker;
    private readonly LocalSession _session;
    private readonly SharedSlots _slots;
    private readonly ILogger _logger;
    private readonly System.Threading.Lock _gate = new();
    private LocalServer? _server;
    private string? _directory;
    private string? _sharedUrl;

    public LocalHostTransport(ILogger logger, TimeProvider time)
    {
        _logger = logger;
        _broker = new LocalBroker(PrivateDirectory);
        _session = _broker.OpenSession();
        _slots = new SharedSlots(_broker.Memory, _session, time);
    }

    public string DisplayUrl => "local://";

    public IQueueBackend Queues => _session;

    public ILockBackend Locks => _slots;

    public IValueBackend Values => _slots;

    public IMapBackend Maps => field ??= new CollectionCalls.Maps(RunCollections);

    public IListBackend Lists => field ??= new CollectionCalls.Lists(RunCollections);

    private ValueTask<byte[]> RunCollections(byte[] request, CancellationToken cancellationToken) => new(_broker.Collections.Run(request));

    /// <summary>The broker is this process: it answers while the process runs.</summary>
    public ValueTask PingAsync(CancellationToken cancellationToken) => default;

    public ValueTask<string> ShareAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_sharedUrl is null)
            {
                var socketPath = Path.Combine(PrivateDirectory(), "broker.sock");
                _server = new LocalServer(_broker, socketPath, _logger);
                _sharedUrl = "local://" + socketPath;
                _logger.LogDebug("Serving the local broker to child processes at {Path}", socketPath);
            }
            return new(_sharedUrl);
        }
    }

    public async ValueTask DisposeAsync()
    {
        LocalServer? server;
        lock (_gate)
        {
            server = _server;
            _server = null;
        }
        if (server is not null)
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }
        _session.Close();
        _broker.Memory.Dispose();
        RemoveDirectory(null, EventArgs.Empty);
        AppDomain.CurrentDomain.ProcessExit -= RemoveDirectory;
    }

    private string PrivateDirectory()
    {
        lock (_gate)
        {
            if (_directory is null)
            {
                RemoveStaleDirectories();
                _directory = Directory.CreateTempSubdirectory($"{DirectoryPrefix}{Environment.ProcessId}-").FullName;
                File.SetUnixFileMode(_directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                AppDomain.CurrentDomain.ProcessExit += RemoveDirectory;
            }
            return _directory;
        }
    }

    private void RemoveDirectory(object? sender, EventArgs e)
    {
        if (_directory is { } directory && Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Removes the directories of hosts that were killed before they could remove their own: those whose pid no
    /// longer exists.</summary>
    private void RemoveStaleDirectories()
    {
        foreach (var directory in Directory.EnumerateDirectories(Path.GetTempPath(), DirectoryPrefix + "*"))
        {
            var parts = Path.GetFileName(directory).Split('-');
            if (parts.Length == 3 && int.TryParse(parts[1], out var pid) && !Native.Exists(pid))
            {
                try
                {
                    Directory.Delete(directory, recursive: true);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    _logger.LogDebug("Could not remove the stale broker directory {Directory}: {Reason}", directory, ex.Message);
                }
            }
        }
    }
}
