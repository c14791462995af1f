using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Polly;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Broker.Transport.RabbitMq;

/// <summary>Queues on RabbitMQ. Items are persistent messages in durable classic queues, whose length limit RabbitMQ
/// enforces exactly (a quorum queue's lets one message too many in, and moves five times fewer messages on one node
/// here); a redelivered item is counted by publishing it again with its count. A plain Put returns once
/// the broker confirmed it, with many publishes in flight on one channel. A Get takes one message and never hoards:
/// it asks with basic.get and, when the queue is empty, waits on a consumer that takes a single delivery. A
/// JoinableQueue's unfinished count is in RabbitMqTransport.Counting.cs; publishing, taking, acknowledging and
/// transactions each have a file of their own.</summary>
internal sealed partial class RabbitMqTransport : ITransport, IQueueBackend, IJoinableQueueBackend
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan LongestPause = TimeSpan.FromMilliseconds(200);

    private static readonly Dictionary<string, object?> Classic = new() { ["x-queue-type"] = "classic" };
    // Properties of their own for each publish: a channel that tracks publisher confirmations writes the publish's
    // sequence number into the headers of the properties it is given, so properties shared by two publishes at once
    // change while the other serializes them (the client then fails to frame it, or sends the other's number).
    private static BasicProperties Persistent() => new() { Persistent = true };

    private static BasicProperties PersistentJoinable() => new()
    {
        Persistent = true,
        Headers = new Dictionary<string, object?> { [Taken.JoinableHeader] = true },
    };

    private readonly BrokerUrl _url;
    private readonly ushort _prefetch;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConnectionFactory _factory;
    private readonly ResiliencePipeline _retry;
    private readonly TimeSpan _retryBudget;
    private readonly ConcurrentDictionary<string, int> _maxSizes = new();
    private readonly Reopening<Session> _session;
    private int _disposed;

    public RabbitMqTransport(BrokerUrl url, ushort prefetch, TimeSpan retryBudget, Uri management, Action<ConnectionFactory>? configure, ILogger logger, TimeProvider time)
    {
        _time = time;
        _retryBudget = retryBudget;
        _url = url;
        _prefetch = prefetch;
        _logger = logger;
        _factory = new ConnectionFactory
        {
            Uri = url.Uri,
            // A lost connection is replaced by a new session, never recovered under the old channels' tags.
            AutomaticRecoveryEnabled = false,
            ClientProvidedName = $"broker pid {Environment.ProcessId}",
            RequestedConnectionTimeout = TimeSpan.FromSeconds(5),
        };
        configure?.Invoke(_factory);
        _factory.AutomaticRecoveryEnabled = false;
        _management = new(() => ManagementClient(management));
        _session = new(async ct =>
        {
            ObjectDisposedException.ThrowIf(_disposed == 1, this);
            return new Session(await _factory.CreateConnectionAsync(ct).ConfigureAwait(false), _time);
        }, session => session.IsOpen, session => session.DisposeAsync());
        // The budget, not the count, ends the tries: see RabbitMqTransportOptions.RetryBudget.
        _retry = ConnectionRetry.Create(IsConnectionFault, logger, $"RabbitMQ at {url.Display}", retries: int.MaxValue - 1, time);
    }

    public string DisplayUrl => _url.Display;

    public string MessagingSystem => "rabbitmq";

    public IQueueBackend Queues => this;

    /// <summary>RabbitMQ has no lock with an owner and a fencing token: a composite URL puts locks on Redis.</summary>
    public ILockBackend? Locks => null;

    /// <summary>RabbitMQ keeps no numbers: a composite URL puts values on Redis.</summary>
    public IValueBackend? Values => null;

    public ValueTask<string> ShareAsync(CancellationToken cancellationToken) => new(_url.Original);

    /// <summary>Asks for an exchange every server has, on the channel that declares queues.</summary>
    public async ValueTask PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RunAsync(async (session, ct) =>
            {
                var admin = await session.Admin.GetAsync(ct).ConfigureAwait(false);
                await admin.ExchangeDeclarePassiveAsync("amq.direct", ct).ConfigureAwait(false);
                return true;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            throw new BrokerUnavailableException($"RabbitMQ at {_url.Display} did not answer in the time given.", e);
        }
    }

    /// <summary>Half of RabbitMQ's default <c>max_message_size</c> (128 MiB), so that an item at the limit still fits
    /// as a dead letter. A server set to less refuses larger messages itself.</summary>
    public const int MaxItem = 64 * 1024 * 1024;

    public int MaxItemSize => MaxItem;

    public async ValueTask DeclareAsync(string queue, int maxSize, CancellationToken cancellationToken)
    {
        var arguments = maxSize > 0
            ? new Dictionary<string, object?> { ["x-queue-type"] = "classic", ["x-max-length"] = maxSize, ["x-overflow"] = "reject-publish" }
            : Classic;
        await RunAsync(async (session, ct) =>
        {
            var admin = await session.Admin.GetAsync(ct).ConfigureAwait(false);
            try
            {
                await admin.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments, cancellationToken: ct).ConfigureAwait(false);
            }
            catch (OperationInterruptedException e) when (ReplyCode(e) == 406)
            {
                throw new QueueMaxSizeConflictException(queue, maxSize,
                    $"Queue '{queue}' exists on RabbitMQ at {_url.Display} with other settings than maxsize {maxSize}: {e.ShutdownReason?.ReplyText}", e);
            }
            return true;
        }, cancellationToken).ConfigureAwait(false);
        _maxSizes[queue] = maxSize;
    }

    public IJoinableQueueBackend Joinable => this;

    public async ValueTask<bool> PutAsync(string queue, ReadOnlyMemory<byte> body, TimeSpan timeout, CancellationToken cancellationToken) =>
        await UntilAsync(timeout, ct => PublishAsync(queue, body, ct), cancellationToken).ConfigureAwait(false);

    async ValueTask<bool> IJoinableQueueBackend.PutAsync(string queue, ReadOnlyMemory<byte> body, TimeSpan timeout, CancellationToken cancellationToken) =>
        await UntilAsync(timeout, ct => PutJoinableAsync(queue, body, ct), cancellationToken).ConfigureAwait(false);

    public async ValueTask<Delivery?> GetAsync(string queue, TimeSpan timeout, CancellationToken cancellationToken) =>
        await ReceiveAsync(queue, acknowledge: false, timeout, cancellationToken).ConfigureAwait(false);

    public async ValueTask<UnfinishedDelivery?> TakeAsync(string queue, TimeSpan timeout, CancellationToken cancellationToken) =>
        await ReceiveAsync(queue, acknowledge: true, timeout, cancellationToken).ConfigureAwait(false);

    /// <summary>Takes an item on the queue's taker channel, unacknowledged until done, or on its reader channel,
    /// acknowledged at once.</summary>
    private async Task<RabbitMqDelivery?> ReceiveAsync(string queue, bool acknowledge, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var taken = await RunAsync(async (session, ct) =>
        {
            if (acknowledge)
            {
                await EnsureCountedAsync(session, queue, ct).ConfigureAwait(false);
            }
            var channels = session.For(queue);
            var channel = await (acknowledge ? channels.Taker : channels.Reader).GetAsync(ct).ConfigureAwait(false);
            var recount = acknowledge && _maxSizes.GetValueOrDefault(queue) == 0;
            while (true)
            {
                var taken = _prefetch > 1
                    ? await (await channels.PrefetcherAsync(acknowledge, channel, queue, _prefetch, ct).ConfigureAwait(false)).TakeAsync(timeout, ct).ConfigureAwait(false)
                    : await TakeOneAsync(channel, queue, timeout, late => GiveBackAsync(channels, late, transactional: acknowledge), ct).ConfigureAwait(false);
                if (taken is { Redelivered: true, Unreadable: null } && recount)
                {
                    await RecountAsync(channels, queue, taken).ConfigureAwait(false);
                    continue;
                }
                if (taken is not null && !acknowledge)
                {
                    await channel.BasicAckAsync(taken.Tag, multiple: false, CancellationToken.None).ConfigureAwait(false);
                }
                return (Taken: taken, Channels: channels);
            }
        }, cancellationToken).ConfigureAwait(false);
        if (taken.Taken is not { } item)
        {
            return null;
        }
        var delivery = new RabbitMqDelivery(this, queue, item, taken.Channels);
        if (!acknowledge && item.Joinable)
        {
            // A plain Get of a JoinableQueue's item finishes it. It is already acknowledged: should this process die
            // before the count drops, Join waits for ever rather than return while something is unfinished.
            await FinishAsync(delivery, acknowledgeItem: false, cancellationToken).ConfigureAwait(false);
        }
        return delivery;
    }

    public async ValueTask<long> CountAsync(string queue, CancellationToken cancellationToken) =>
        await RunAsync(async (session, ct) =>
        {
            var admin = await session.Admin.GetAsync(ct).ConfigureAwait(false);
            return (long)(await PassiveDeclareAsync(admin, queue, ct).ConfigureAwait(false)).MessageCount;
        }, cancellationToken).ConfigureAwait(false);

    public async ValueTask<bool> JoinAsync(string queue, TimeSpan timeout, CancellationToken cancellationToken)
    {
        return await UntilAsync(timeout, ct => RunAsync(async (session, ct) =>
        {
            await EnsureCountedAsync(session, queue, ct).ConfigureAwait(false);
            return await ExclusivelyAsync(session, queue, wait: true, () => SumDeltasAsync(session, queue, ct), ct).ConfigureAwait(false) is (true, 0);
        }, ct), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes the connection. RabbitMQ returns at once every item this process took and did not finish.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        if (_session.Current is { } session)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
        if (_management.IsValueCreated)
        {
            _management.Value.Dispose();
        }
    }

    /// <summary>Tries <paramref name="attempt"/> until it succeeds or <paramref name="timeout"/> passes, pausing a
    /// little longer each time: RabbitMQ rings no bell when a full queue drains or a count reaches zero.</summary>
    private async Task<bool> UntilAsync(TimeSpan timeout, Func<CancellationToken, Task<bool>> attempt, CancellationToken cancellationToken)
    {
        var deadline = new Deadline(timeout, _time);
        var pause = FirstPause;
        while (!await attempt(cancellationToken).ConfigureAwait(false))
        {
            if (!await deadline.PauseAsync(pause, cancellationToken).ConfigureAwait(false))
            {
                return false;
            }
            pause = Next(pause);
        }
        return true;
    }

    private static TimeSpan Next(TimeSpan pause) => pause * 2 < LongestPause ? pause * 2 : LongestPause;

    /// <summary>Runs <paramref name="operation"/> on the current session, opening a new one and trying again (with
    /// backoff, bounded, logged) when the connection fails.</summary>
    private async Task<T> RunAsync<T>(Func<Session, CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed == 1, this);
        try
        {
            if (_session.Current is { IsOpen: true } connected)
            {
                // The common case runs without the retry pipeline's cost; a connection fault falls through to it.
                try
                {
                    return await operation(connected, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (IsConnectionFault(e))
                {
                    _logger.LogWarning("RabbitMQ at {Url} failed ({Reason}); retrying", _url.Display, e.Message);
                }
            }
            // The budget counts the time without a connection, not a long Get's wait on one.
            long? lostAt = _time.GetTimestamp();
            Exception? fault = null;
            return await _retry.ExecuteAsync(async ct =>
            {
                if (lostAt is { } since && _time.GetElapsedTime(since) > _retryBudget)
                {
                    throw new BrokerUnavailableException(
                        $"RabbitMQ at {_url.Display} cannot be reached within the retry budget of {_retryBudget.TotalSeconds:0.###} s: {BrokerUrl.Redact(fault?.Message ?? "no connection")}", fault);
                }
                try
                {
                    var session = await _session.GetAsync(ct).ConfigureAwait(false);
                    lostAt = null;
                    return await operation(session, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (IsConnectionFault(e))
                {
                    lostAt ??= _time.GetTimestamp();
                    fault = e;
                    throw;
                }
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsConnectionFault(e))
        {
            throw new BrokerUnavailableException($"RabbitMQ at {_url.Display} cannot be reached: {e.Message}", e);
        }
        catch (Exception e) when (e is BrokerUnreachableException or OperationInterruptedException)
        {
            throw new BrokerException($"RabbitMQ at {_url.Display} refused: {e.InnerException?.Message ?? e.Message}", e);
        }
    }

    /// <summary>A fault of the connection, worth a new one: not a refusal such as a missing queue, a mismatched
    /// declaration or bad credentials, which would fail the same way again.</summary>
    private static bool IsConnectionFault(Exception e) => e switch
    {
        AuthenticationFailureException => false,
        BrokerUnreachableException { InnerException: AuthenticationFailureException } => false,
        BrokerUnreachableException or ConnectFailureException or IOException or SocketException => true,
        AlreadyClosedException => true,
        OperationInterruptedException interrupted => ReplyCode(interrupted) is not (403 or 404 or 405 or 406 or 530),
        _ => false,
    };

    private static int ReplyCode(OperationInterruptedException e) => e.ShutdownReason?.ReplyCode ?? 0;
}
