using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Polly;
using StackExchange.Redis;

namespace Broker.Transport.Redis;

/// <summary>Queues, locks and values on Redis through one shared multiplexer. Nothing here blocks the multiplexer:
/// a waiting Get, Put, Join or Acquire tries an atomic script, then waits for a pub/sub doorbell or the poll interval
/// and tries again. Redis cannot see a consumer die, so items taken with acknowledgement and held locks carry leases
/// that this transport renews while its process lives; a dead holder's lease ends and its item or lock comes back.</summary>
internal sealed class RedisTransport : ITransport, IQueueBackend, ILockBackend, IValueBackend
{
    private const string Prefix = "broker:";

    /// <summary>The most puts, or acknowledgements, that go to one queue in one script.</summary>
    private const int MostAtOnce = 256;
    private readonly BrokerUrl _url;
    private readonly RedisOptions _options;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _retry;
    private readonly Lazy<Task<ConnectionMultiplexer>> _connection;
    private readonly ConcurrentDictionary<string, Lazy<Task<Doorbell>>> _doorbells = new();
    private readonly ConcurrentDictionary<RedisDelivery, byte> _taken = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<RedisDelivery>> _kept = new();
    private readonly ConcurrentDictionary<string, GroupCommit<RedisValue, bool>> _puts = new();
    private readonly ConcurrentDictionary<string, GroupCommit<long, long>> _acks = new();
    private readonly ConcurrentDictionary<(string Name, LockOwner Owner), CancellationTokenSource> _held = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _renewing;

    public RedisTransport(BrokerUrl url, ILogger logger)
    {
        _url = url;
        _options = RedisOptions.From(url);
        _logger = logger;
        var configuration = Configure(url);
        // The budget, not the count, ends the tries: see RedisOptions.Retry.
        _retry = ConnectionRetry.Create(IsConnectionFault, logger, $"Redis at {url.Display}", retries: int.MaxValue - 1);
        _connection = new(() => ConnectAsync(configuration));
        _renewing = RenewLoopAsync();
    }

    public string DisplayUrl => _url.Display;

    public IQueueBackend Queues => this;

    public ILockBackend Locks => this;

    public IValueBackend Values => this;

    public ValueTask<string> ShareAsync(CancellationToken cancellationToken) => new(_url.Original);

    /// <summary>Well under Redis's own limit of 512 MB a string, and small enough that a script moving a few such items
    /// does not stall the server for others.</summary>
    public const int MaxItem = 64 * 1024 * 1024;

    public int MaxItemSize => MaxItem;

    public async ValueTask DeclareAsync(string queue, int maxSize, CancellationToken cancellationToken)
    {
        var keys = new QueueKeys(queue);
        var declared = (int)await EvaluateAsync(RedisScripts.Declare, [keys.Meta], [maxSize], cancellationToken).ConfigureAwait(false);
        if (declared != maxSize)
        {
            throw new BrokerException($"Queue '{queue}' exists with maxsize {declared}, not {maxSize}.");
        }
    }

    /// <summary>Puts made at once by this process go to the queue together, in one script.</summary>
    public async ValueTask<bool> PutAsync(string queue, ReadOnlyMemory<byte> body, bool joinable, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var puts = _puts.GetOrAdd(queue, q => new(bodies => PutManyAsync(q, bodies), MostAtOnce));
        RedisValue item = body.ToArray();
        return await WaitAsync(new QueueKeys(queue).Channel, timeout, ct => puts.CommitAsync(item, ct), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Puts what the queue has room for; each item that did not fit waits for room on its own.</summary>
    private async Task<IReadOnlyList<bool>> PutManyAsync(string queue, IReadOnlyList<RedisValue> bodies)
    {
        var keys = new QueueKeys(queue);
        var put = (int)await EvaluateAsync(RedisScripts.Put, [keys.Items, keys.Meta, keys.Unfinished], [keys.Channel, .. bodies], CancellationToken.None).ConfigureAwait(false);
        return [.. bodies.Select((_, i) => i < put)];
    }

    public async ValueTask<Delivery?> GetAsync(string queue, bool acknowledge, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Only items taken with acknowledgement are kept ahead: they stay leased to this process, and come back if it
        // dies; an item taken without one would be lost with it.
        if (!acknowledge)
        {
            return (await TakeAsync(queue, acknowledge, 1, timeout, cancellationToken).ConfigureAwait(false)).FirstOrDefault();
        }
        if (_options.Prefetch > 1 && TakeKept(queue) is { } kept)
        {
            return kept;
        }
        var taken = await TakeAsync(queue, acknowledge, _options.Prefetch, timeout, cancellationToken).ConfigureAwait(false);
        foreach (var item in taken.Skip(1))
        {
            _kept.GetOrAdd(queue, _ => new()).Enqueue(item);
        }
        return taken.FirstOrDefault();
    }

    /// <summary>Takes up to <paramref name="most"/> items in one script.</summary>
    public async ValueTask<IReadOnlyList<Delivery>> GetManyAsync(string queue, int most, TimeSpan timeout, CancellationToken cancellationToken) =>
        await TakeAsync(queue, acknowledge: false, most, timeout, cancellationToken).ConfigureAwait(false);

    private async Task<List<RedisDelivery>> TakeAsync(string queue, bool acknowledge, int most, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var keys = new QueueKeys(queue);
        var delivered = new List<RedisDelivery>();
        await WaitAsync(keys.Channel, timeout, async ct =>
        {
            var result = await EvaluateAsync(RedisScripts.Get, [keys.Items, keys.Taken, keys.Leases, keys.Unfinished, keys.Ids, keys.Meta],
                [acknowledge ? 1 : 0, (long)_options.Lease.TotalMilliseconds, keys.Channel, most], ct).ConfigureAwait(false);
            if (result.IsNull)
            {
                return false;
            }
            var taken = (RedisResult[])result!;
            for (var i = 0; i < taken.Length; i += 3)
            {
                var item = new RedisDelivery(queue, (byte[])taken[i + 1]!, (long)taken[i], (int)taken[i + 2]);
                if (item.Id > 0)
                {
                    _taken[item] = 0;
                }
                delivered.Add(item);
            }
            return true;
        }, cancellationToken).ConfigureAwait(false);
        return delivered;
    }

    /// <summary>The oldest item taken ahead for <paramref name="queue"/> whose lease this process still holds.</summary>
    private RedisDelivery? TakeKept(string queue)
    {
        if (_kept.TryGetValue(queue, out var kept))
        {
            while (kept.TryDequeue(out var item))
            {
                if (_taken.ContainsKey(item))
                {
                    return item;
                }
            }
        }
        return null;
    }

    /// <summary>Acknowledgements made at once by this process go together, in one script.</summary>
    public async ValueTask AckAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        var taken = (RedisDelivery)delivery;
        if (!_taken.TryRemove(taken, out _))
        {
            throw new InvalidOperationException($"An item of queue '{delivery.Queue}' was acknowledged twice.");
        }
        var acks = _acks.GetOrAdd(taken.Queue, q => new(ids => AckManyAsync(q, ids), MostAtOnce));
        if (await acks.CommitAsync(taken.Id, cancellationToken).ConfigureAwait(false) < 0)
        {
            _logger.LogWarning("An item of queue {Queue} was done after its lease ended; it went back to the queue and may run twice. " +
                "Its consumer stalled for longer than the lease ({Lease}).", taken.Queue, _options.Lease);
        }
    }

    private async Task<IReadOnlyList<long>> AckManyAsync(string queue, IReadOnlyList<long> ids)
    {
        var keys = new QueueKeys(queue);
        var left = (RedisResult[])(await EvaluateAsync(RedisScripts.Ack, [keys.Taken, keys.Leases, keys.Unfinished],
            [keys.Channel, .. ids.Select(id => (RedisValue)id)], CancellationToken.None).ConfigureAwait(false))!;
        return [.. left.Select(result => (long)result)];
    }

    public async ValueTask<long> CountAsync(string queue, CancellationToken cancellationToken) =>
        await RunAsync(static (db, key) => db.ListLengthAsync(key), (RedisKey)new QueueKeys(queue).Items, cancellationToken).ConfigureAwait(false);

    public async ValueTask<bool> JoinAsync(string queue, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var keys = new QueueKeys(queue);
        return await WaitAsync(keys.Channel, timeout, async ct =>
            (long)await RunAsync(static (db, key) => db.StringGetAsync(key), (RedisKey)keys.Unfinished, ct).ConfigureAwait(false) <= 0,
            cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<LockLease?> AcquireAsync(string name, LockOwner owner, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var keys = new LockKeys(name);
        long fencingToken = 0;
        var acquired = await WaitAsync(keys.Channel, timeout, async ct =>
        {
            var result = await EvaluateAsync(RedisScripts.Acquire, [keys.Lock, keys.Fence], [owner.ToString(), (long)_options.Lease.TotalMilliseconds], ct).ConfigureAwait(false);
            fencingToken = result.IsNull ? 0 : (long)result;
            return !result.IsNull;
        }, cancellationToken).ConfigureAwait(false);
        if (!acquired)
        {
            return null;
        }
        var lost = new CancellationTokenSource();
        _held[(name, owner)] = lost;
        return new LockLease(fencingToken, lost.Token);
    }

    public async ValueTask ReleaseAsync(string name, LockOwner owner, CancellationToken cancellationToken)
    {
        var keys = new LockKeys(name);
        if (_held.TryRemove((name, owner), out var lost))
        {
            lost.Dispose();
        }
        if ((int)await EvaluateAsync(RedisScripts.Release, [keys.Lock], [owner.ToString(), keys.Channel], cancellationToken).ConfigureAwait(false) == 0)
        {
            throw new LockNotOwnedException($"Lock '{name}' is not held by this owner (or its lease of {_options.Lease} ended).");
        }
    }

    public async ValueTask<bool> IsHeldAsync(string name, CancellationToken cancellationToken) =>
        await RunAsync(static (db, key) => db.KeyExistsAsync(key), (RedisKey)new LockKeys(name).Lock, cancellationToken).ConfigureAwait(false);

    public async ValueTask InitializeAsync(string name, Scalar initial, CancellationToken cancellationToken) =>
        await RunAsync(static (db, s) => db.StringSetAsync(s.Key, s.Value, when: When.NotExists), (Key: ValueKey(name), Value: (RedisValue)initial.ToString()), cancellationToken).ConfigureAwait(false);

    public async ValueTask<Scalar> GetAsync(string name, ScalarKind kind, CancellationToken cancellationToken)
    {
        var text = await RunAsync(static (db, key) => db.StringGetAsync(key), ValueKey(name), cancellationToken).ConfigureAwait(false);
        return text.IsNull ? Scalar.Zero(kind) : Scalar.Parse(text!, kind);
    }

    public async ValueTask SetAsync(string name, Scalar value, CancellationToken cancellationToken) =>
        await RunAsync(static (db, s) => db.StringSetAsync(s.Key, s.Value), (Key: ValueKey(name), Value: (RedisValue)value.ToString()), cancellationToken).ConfigureAwait(false);

    public async ValueTask<Scalar> AddAsync(string name, Scalar delta, CancellationToken cancellationToken) =>
        delta.Kind == ScalarKind.Integer
            ? Scalar.FromInteger(await RunAsync(static (db, s) => db.StringIncrementAsync(s.Key, s.Delta), (Key: ValueKey(name), Delta: delta.Integer), cancellationToken).ConfigureAwait(false))
            : Scalar.FromFloat(await RunAsync(static (db, s) => db.StringIncrementAsync(s.Key, s.Delta), (Key: ValueKey(name), Delta: delta.Float), cancellationToken).ConfigureAwait(false));

    public async ValueTask<Scalar> CompareExchangeAsync(string name, Scalar value, Scalar comparand, CancellationToken cancellationToken)
    {
        var found = await EvaluateAsync(RedisScripts.CompareExchange, [ValueKey(name)],
            [value.ToString(), comparand.ToString(), value.Kind == ScalarKind.Integer ? "i" : "f"], cancellationToken).ConfigureAwait(false);
        return Scalar.Parse((string)found!, value.Kind);
    }

    /// <summary>Stops renewing, gives back the items this process took and did not finish and the locks it holds,
    /// so that others have them at once rather than when the leases end, then closes the connection.</summary>
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
                    var keys = new QueueKeys(taken.Queue);
                    await EvaluateAsync(RedisScripts.GiveBack, [keys.Items, keys.Taken, keys.Leases], [taken.Id, keys.Channel], CancellationToken.None).ConfigureAwait(false);
                }
                foreach (var (name, owner) in _held.Keys)
                {
                    await EvaluateAsync(RedisScripts.Release, [new LockKeys(name).Lock], [owner.ToString(), new LockKeys(name).Channel], CancellationToken.None).ConfigureAwait(false);
                }
            }
            catch (BrokerUnavailableException e)
            {
                _logger.LogWarning("Could not give back unfinished items and locks to Redis at {Url}; their leases will end: {Reason}", _url.Display, e.Message);
            }
            await (await _connection.Value.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
        _stopping.Dispose();
    }

    /// <summary>Tries <paramref name="attempt"/> until it succeeds or <paramref name="timeout"/> passes, waking on the
    /// channel's doorbell or every poll interval. The doorbell is taken before each attempt, so a ring in between
    /// is not missed.</summary>
    private async ValueTask<bool> WaitAsync(string channel, TimeSpan timeout, Func<CancellationToken, Task<bool>> attempt, CancellationToken cancellationToken)
    {
        // The call's timeout also bounds the retries of a lost connection: the attempts run against it.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var deadline = timeout == Timeout.InfiniteTimeSpan || timeout == TimeSpan.Zero ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline?.CancelAfter(timeout);
        if (await attempt(deadline?.Token ?? cancellationToken).ConfigureAwait(false))
        {
            return true;
        }
        if (timeout == TimeSpan.Zero)
        {
            return false;
        }
        var doorbell = await DoorbellAsync(channel).ConfigureAwait(false);
        while (true)
        {
            var rung = doorbell.Next;
            try
            {
                if (await attempt(deadline?.Token ?? cancellationToken).ConfigureAwait(false))
                {
                    return true;
                }
            }
            catch (BrokerUnavailableException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
            var remaining = timeout == Timeout.InfiniteTimeSpan ? _options.Poll : timeout - clock.Elapsed;
            if (remaining <= TimeSpan.Zero)
            {
                return false;
            }
            await Task.WhenAny(rung, Task.Delay(remaining < _options.Poll ? remaining : _options.Poll, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private Task<Doorbell> DoorbellAsync(string channel) =>
        _doorbells.GetOrAdd(channel, c => new Lazy<Task<Doorbell>>(() => SubscribeAsync(c))).Value;

    /// <summary>A doorbell that every message on <paramref name="channel"/> rings. The subscription is retried as any
    /// command is (a new connection may take commands before it takes subscriptions); one that still failed is
    /// forgotten, so that the next wait subscribes again instead of failing for the life of this transport.</summary>
    private async Task<Doorbell> SubscribeAsync(string channel)
    {
        var doorbell = new Doorbell();
        try
        {
            await RunAsync(static async (db, s) =>
            {
                await db.Multiplexer.GetSubscriber().SubscribeAsync(RedisChannel.Literal(s.Channel), (_, _) => s.Doorbell.Ring()).ConfigureAwait(false);
                return true;
            }, (Channel: channel, Doorbell: doorbell), CancellationToken.None).ConfigureAwait(false);
            return doorbell;
        }
        catch
        {
            _doorbells.TryRemove(channel, out _);
            throw;
        }
    }

    /// <summary>Renews, every third of a lease, the leases of the items this process took and the locks it holds.
    /// A lease found already ended is logged; a lost lock cancels its <see cref="LockLease.Lost"/> token.</summary>
    private async Task RenewLoopAsync()
    {
        using var timer = new PeriodicTimer(_options.Lease / 3);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    await RenewAsync().ConfigureAwait(false);
                }
                catch (BrokerUnavailableException e)
                {
                    _logger.LogWarning("Could not renew leases on Redis at {Url}: {Reason}", _url.Display, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RenewAsync()
    {
        var leaseMs = (long)_options.Lease.TotalMilliseconds;
        foreach (var queue in _taken.Keys.GroupBy(d => d.Queue))
        {
            var ids = queue.ToDictionary(d => d.Id);
            var lost = (RedisResult[])(await EvaluateAsync(RedisScripts.Renew, [new QueueKeys(queue.Key).Leases],
                [leaseMs, .. ids.Keys.Select(id => (RedisValue)id)], _stopping.Token).ConfigureAwait(false))!;
            foreach (var id in lost.Select(r => (long)r))
            {
                _logger.LogWarning("The lease of an item of queue {Queue} ended before it was done; it went back to the queue.", queue.Key);
                _taken.TryRemove(ids[id], out _);
            }
        }
        foreach (var ((name, owner), lost) in _held)
        {
            if ((int)await EvaluateAsync(RedisScripts.RenewLock, [new LockKeys(name).Lock], [owner.ToString(), leaseMs], _stopping.Token).ConfigureAwait(false) == 0
                && _held.TryRemove((name, owner), out _))
            {
                _logger.LogWarning("Lock {Lock} was lost: its lease ended before it could be renewed.", name);
                lost.Cancel();
            }
        }
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
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(_options.Retry);
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
        catch (OperationCanceledException) when (budget.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
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

    /// <summary>A fault of the connection, worth another try: not refused credentials, which would fail the same way again.</summary>
    private static bool IsConnectionFault(Exception e) => e is RedisConnectionException or RedisTimeoutException && !IsAuthenticationFailure(e);

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

    private async Task<ConnectionMultiplexer> ConnectAsync(ConfigurationOptions configuration)
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        connection.ConnectionFailed += (_, e) => _logger.LogWarning("Lost the connection to Redis at {Url}: {Failure}", _url.Display, e.FailureType);
        connection.ConnectionRestored += (_, _) => _logger.LogInformation("The connection to Redis at {Url} is back", _url.Display);
        return connection;
    }

    private static ConfigurationOptions Configure(BrokerUrl url)
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

    private static RedisKey ValueKey(string name) => $"{Prefix}v:{{{name}}}";

    /// <summary>One queue's keys, in one hash slot (the name in braces) so that its scripts run on a cluster too.</summary>
    private readonly record struct QueueKeys(string Name)
    {
        public string Items => $"{Prefix}q:{{{Name}}}:items";
        public string Taken => $"{Prefix}q:{{{Name}}}:taken";
        public string Leases => $"{Prefix}q:{{{Name}}}:leases";
        public string Unfinished => $"{Prefix}q:{{{Name}}}:unfinished";
        public string Ids => $"{Prefix}q:{{{Name}}}:ids";
        public string Meta => $"{Prefix}q:{{{Name}}}:meta";
        public string Channel => $"{Prefix}q:{{{Name}}}:signal";
    }

    private readonly record struct LockKeys(string Name)
    {
        public string Lock => $"{Prefix}l:{{{Name}}}";
        public string Fence => $"{Prefix}l:{{{Name}}}:fence";
        public string Channel => $"{Prefix}l:{{{Name}}}:released";
    }
}

/// <summary>An item taken from a Redis queue; <see cref="Id"/> names its lease, 0 for an item taken without acknowledgement.</summary>
internal sealed class RedisDelivery(string queue, byte[] body, long id, int attempt) : Delivery(queue, body, attempt)
{
    public long Id { get; } = id;
}
