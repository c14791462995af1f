using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Polly;
using StackExchange.Redis;

namespace Broker.Transport.Redis;

/// <summary>Queues, locks and values on Redis through one shared multiplexer. Nothing here blocks the multiplexer:
/// a waiting Get, Put, Join or Acquire tries an atomic script, then waits for a pub/sub doorbell or the poll interval
/// and tries again. Redis cannot see a consumer die, so items taken with acknowledgement and held locks carry leases
/// that this transport renews while its process lives; a dead holder's lease ends and its item or lock comes back.</summary>
internal sealed partial class RedisTransport : ITransport, IQueueBackend, IJoinableQueueBackend, ILockBackend, IValueBackend
{
    /// <summary>The most puts, or acknowledgements, that go to one queue in one script.</summary>
    private const int MostAtOnce = 256;
    private readonly BrokerUrl _url;
    private readonly RedisOptions _options;
    private readonly RedisKeys _keys;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ResiliencePipeline _retry;
    private readonly Lazy<Task<IConnectionMultiplexer>> _connection;
    private readonly bool _ownsConnection;
    private readonly ConcurrentDictionary<string, Lazy<Task<Doorbell>>> _doorbells = new();
    private readonly ConcurrentDictionary<RedisDelivery, byte> _taken = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<RedisDelivery>> _prefetched = new();
    private readonly ConcurrentDictionary<string, GroupCommit<RedisValue, bool>> _puts = new();
    private readonly ConcurrentDictionary<string, GroupCommit<long, long>> _acks = new();
    private readonly ConcurrentDictionary<(string Name, LockOwner Owner), CancellationTokenSource> _held = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _renewing;

    public RedisTransport(BrokerUrl url, RedisTransportOptions given, ILogger logger, TimeProvider time)
    {
        _url = url;
        _time = time;
        _options = RedisOptions.From(url, given);
        _keys = new RedisKeys(_options.KeyPrefix);
        _logger = logger;
        var configuration = Configure(url);
        given.ConfigureConnection?.Invoke(configuration);
        _ownsConnection = given.Connection is null;
        // The budget, not the count, ends the tries: see RedisTransportOptions.RetryBudget.
        _retry = ConnectionRetry.Create(IsConnectionFault, logger, $"Redis at {url.Display}", retries: int.MaxValue - 1, time);
        _connection = new(() => given.Connection is { } shared ? Task.FromResult(shared) : ConnectAsync(configuration));
        _renewing = RenewLoopAsync();
        Maps = new RedisMaps(this);
        Lists = new RedisLists(this);
    }

    public string DisplayUrl => _url.Display;

    public string MessagingSystem => "redis";

    public IQueueBackend Queues => this;

    public ILockBackend Locks => this;

    public IValueBackend Values => this;

    public IMapBackend Maps { get; }

    public IListBackend Lists { get; }

    public ValueTask<string> ShareAsync(CancellationToken cancellationToken) => new(_url.Original);

    public async ValueTask PingAsync(CancellationToken cancellationToken) =>
        await RunAsync(static (database, _) => database.PingAsync(), 0, cancellationToken).ConfigureAwait(false);

    /// <summary>Stops renewing, gives back the items this process took and did not finish and the locks it holds,
    /// so that others have them at once rather than when the leases end, then closes the connection it opened.</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        await _renewing.ConfigureAwait(false);
        if (_connection.IsValueCreated && _connection.Value.IsCompletedSuccessfully)
        {
            try
            {
                // Each goes back to the head of its queue: the newest first, so that the oldest leads again.
                foreach (var taken in _taken.Keys.OrderByDescending(d => d.Id))
                {
                    var keys = _keys.Queue(taken.Queue);
                    await EvaluateAsync(RedisScripts.GiveBack, [keys.Items, keys.Taken, keys.Leases], [taken.Id, keys.Channel], CancellationToken.None).ConfigureAwait(false);
                }
                foreach (var (name, owner) in _held.Keys)
                {
                    await EvaluateAsync(RedisScripts.Release, [_keys.Lock(name).Lock], [owner.ToString(), _keys.Lock(name).Channel], CancellationToken.None).ConfigureAwait(false);
                }
            }
            catch (BrokerUnavailableException e)
            {
                _logger.LogWarning("Could not give back unfinished items and locks to Redis at {Url}; their leases will end: {Reason}", _url.Display, e.Message);
            }
            if (_ownsConnection)
            {
                await (await _connection.Value.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
            }
        }
        _stopping.Dispose();
    }

    private async Task<RedisResult> EvaluateAsync(string script, RedisKey[] keys, RedisValue[] values, CancellationToken cancellationToken) =>
        await RunAsync(static (db, s) => db.ScriptEvaluateAsync(s.script, s.keys, s.values), (script, keys, values), cancellationToken).ConfigureAwait(false);

    /// <summary>Runs one command. A connection fault is retried (backoff with jitter, each try logged) for the retry
    /// budget at most, or until <paramref name="cancellationToken"/> fires, and then raises
    /// <see cref="BrokerUnavailableException"/>. Anything else the server says fails at once as a <see cref="BrokerException"/>.</summary>
    private async Task<TResult> RunAsync<TState, TResult>(Func<IDatabase, TState, Task<TResult>> command, TState state, CancellationToken cancellationToken)
    {
        Exception? fault = null;
        if (_connection.Value is { IsCompletedSuccessfully: true } connected)
        {
            try
            {
                // The first try runs whatever the token says, so that a Get with a timeout of zero still takes an item.
                return await command(connected.Result.GetDatabase(), state).ConfigureAwait(false);
            }
            catch (Exception e) when (IsConnectionFault(e))
            {
                fault = e;
            }
            catch (Exception e)
            {
                throw Refused(e);
            }
        }
        using var budget = new TimedCancellation(_options.Retry, _time, cancellationToken);
        try
        {
            return await _retry.ExecuteAsync(static async (s, ct) =>
            {
                var connection = await s.transport._connection.Value.WaitAsync(ct).ConfigureAwait(false);
                return await s.command(connection.GetDatabase(), s.state).ConfigureAwait(false);
            }, (transport: this, command, state), budget.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (IsConnectionFault(e))
        {
            throw Unavailable(e);
        }
        catch (OperationCanceledException) when (budget.TimedOut && !cancellationToken.IsCancellationRequested)
        {
            throw Unavailable(fault);
        }
        catch (OperationCanceledException) when (fault is not null || !_connection.Value.IsCompletedSuccessfully)
        {
            // The call's own timeout (its token) ended the tries: the server still did not answer.
            throw Unavailable(fault);
        }
        catch (Exception e)
        {
            throw Refused(e);
        }
    }

    private BrokerUnavailableException Unavailable(Exception? fault) =>
        new($"Redis at {_url.Display} did not answer: {BrokerUrl.Redact(fault?.Message ?? "no connection")}", fault);

    /// <summary>What the server refused, as Broker's exception: a client type never reaches a caller.</summary>
    private Exception Refused(Exception e) => e switch
    {
        _ when IsAuthenticationFailure(e) => new BrokerException($"Redis at {_url.Display} refused the credentials: {BrokerUrl.Redact(e.Message)}", e),
        RedisException => new BrokerException($"Redis at {_url.Display} refused: {BrokerUrl.Redact(e.Message)}", e),
        _ => e,
    };

    /// <summary>A fault of the connection, worth another try: not refused credentials, which would fail the same way again.
    /// A cancellation with no token is the client's own: it drops the commands it held when its connection broke.</summary>
    private static bool IsConnectionFault(Exception e) =>
        e is RedisConnectionException or RedisTimeoutException or OperationCanceledException { CancellationToken.CanBeCanceled: false }
        && !IsAuthenticationFailure(e);

    private static bool IsAuthenticationFailure(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is RedisConnectionException { FailureType: ConnectionFailureType.AuthenticationFailure }
                || e.Message.Contains("NOAUTH", StringComparison.Ordinal) || e.Message.Contains("WRONGPASS", StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    private async Task<IConnectionMultiplexer> ConnectAsync(ConfigurationOptions configuration)
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        connection.ConnectionFailed += (_, e) => _logger.LogWarning("Lost the connection to Redis at {Url}: {Failure}", _url.Display, e.FailureType);
        connection.ConnectionRestored += (_, _) => _logger.LogInformation("The connection to Redis at {Url} is back", _url.Display);
        return connection;
    }

    internal static ConfigurationOptions Configure(BrokerUrl url)
    {
        var configuration = new ConfigurationOptions
        {
            AbortOnConnectFail = false,
            // Fail at once while disconnected: the retry pipeline owns the waiting, with its bounded backoff.
            BacklogPolicy = BacklogPolicy.FailFast,
            ConnectTimeout = 5000,
            AsyncTimeout = 5000,
            ClientName = "broker",
            Ssl = url.Scheme == "rediss",
        };
        configuration.EndPoints.Add(url.Uri.Host, url.Uri.Port > 0 ? url.Uri.Port : 6379);
        if (url.Uri.UserInfo.Split(':', 2) is [var user, var password])
        {
            configuration.User = user.Length > 0 ? Uri.UnescapeDataString(user) : null;
            configuration.Password = Uri.UnescapeDataString(password);
        }
        var database = url.Uri.AbsolutePath.Trim('/');
        if (database.Length > 0)
        {
            configuration.DefaultDatabase = int.TryParse(database, out var number) && number >= 0
                ? number
                : throw new BrokerUrlException($"'{url.Display}' names database '{database}': a Redis database is a number, as in redis://host:6379/0.");
        }
        return configuration;
    }
}

/// <summary>An item taken from a Redis queue; <see cref="Id"/> names its lease, 0 for an item taken without acknowledgement.</summary>
internal sealed class RedisDelivery(RedisTransport transport, string queue, byte[] body, long id, int attempt) : UnfinishedDelivery(queue, body, attempt)
{
    public long Id { get; } = id;

    public override ValueTask DoneAsync(CancellationToken cancellationToken) => transport.AckAsync(this, cancellationToken);
}
