using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
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
/// JoinableQueue's unfinished count is in RabbitMqTransport.Counting.cs.</summary>
internal sealed partial class RabbitMqTransport : ITransport, IQueueBackend
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
    private readonly ConnectionFactory _factory;
    private readonly ResiliencePipeline _retry;
    private readonly ConcurrentDictionary<string, int> _maxSizes = new();
    private readonly Reopening<Session> _session;
    private int _disposed;

    public RabbitMqTransport(BrokerUrl url, ushort prefetch, ILogger logger)
    {
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
        _session = new(async ct =>
        {
            ObjectDisposedException.ThrowIf(_disposed == 1, this);
            return new Session(await _factory.CreateConnectionAsync(ct).ConfigureAwait(false));
        }, session => session.IsOpen, session => session.DisposeAsync());
        _retry = ConnectionRetry.Create(IsConnectionFault, logger, $"RabbitMQ at {url.Display}", retries: 8);
    }

    public string DisplayUrl => _url.Display;

    public IQueueBackend Queues => this;

    /// <summary>RabbitMQ has no lock with an owner and a fencing token: a composite URL puts locks on Redis.</summary>
    public ILockBackend? Locks => null;

    /// <summary>RabbitMQ keeps no numbers: a composite URL puts values on Redis.</summary>
    public IValueBackend? Values => null;

    public ValueTask<string> ShareAsync(CancellationToken cancellationToken) => new(_url.Original);

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
                throw new BrokerException(
                    $"Queue '{queue}' exists on RabbitMQ at {_url.Display} with other settings than maxsize {maxSize}: {e.ShutdownReason?.ReplyText}", e);
            }
            return true;
        }, cancellationToken).ConfigureAwait(false);
        _maxSizes[queue] = maxSize;
    }

    public async ValueTask<bool> PutAsync(string queue, ReadOnlyMemory<byte> body, bool joinable, TimeSpan timeout, CancellationToken cancellationToken)
    {
        return await UntilAsync(timeout, ct => joinable ? PutJoinableAsync(queue, body, ct) : PublishAsync(queue, body, ct), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<Delivery?> GetAsync(string queue, bool acknowledge, TimeSpan timeout, CancellationToken cancellationToken)
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
                    : await TakeAsync(channel, queue, timeout, late => GiveBackAsync(channels, late, transactional: acknowledge), ct).ConfigureAwait(false);
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
        var delivery = new RabbitMqDelivery(queue, item, taken.Channels);
        if (!acknowledge && item.Joinable)
        {
            // A plain Get of a JoinableQueue's item finishes it. It is already acknowledged: should this process die
            // before the count drops, Join waits for ever rather than return while something is unfinished.
            await FinishAsync(delivery, acknowledgeItem: false, cancellationToken).ConfigureAwait(false);
        }
        return delivery;
    }

    public ValueTask AckAsync(Delivery delivery, CancellationToken cancellationToken) =>
        new(FinishAsync((RabbitMqDelivery)delivery, acknowledgeItem: true, cancellationToken));

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
    }

    private async Task<bool> PublishAsync(string queue, ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
        await RunAsync(async (session, ct) =>
        {
            var publisher = await session.Publisher.GetAsync(ct).ConfigureAwait(false);
            try
            {
                await publisher.BasicPublishAsync("", queue, mandatory: true, Persistent(), body, ct).ConfigureAwait(false);
                return true;
            }
            catch (PublishException e) when (e.IsReturn)
            {
                throw new BrokerException($"Queue '{queue}' does not exist on RabbitMQ at {_url.Display}: the item was returned.", e);
            }
            catch (PublishException)
            {
                return false; // rejected by the queue's length limit: full
            }
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>Publishes the item with a +1 delta in one transaction. With a maxsize the queue's length is read
    /// under the queue's lock, so that no other joinable Put can race the check.</summary>
    private async Task<bool> PutJoinableAsync(string queue, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var maxSize = _maxSizes.GetValueOrDefault(queue);
        return await RunAsync(async (session, ct) =>
        {
            await EnsureCountedAsync(session, queue, ct).ConfigureAwait(false);
            if (maxSize == 0)
            {
                return await CommitPutAsync(session, queue, body, ct).ConfigureAwait(false);
            }
            var (_, put) = await ExclusivelyAsync(session, queue, wait: true, async () =>
            {
                var admin = await session.Admin.GetAsync(ct).ConfigureAwait(false);
                return (await PassiveDeclareAsync(admin, queue, ct).ConfigureAwait(false)).MessageCount < maxSize
                    && await CommitPutAsync(session, queue, body, ct).ConfigureAwait(false);
            }, ct).ConfigureAwait(false);
            return put;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Commits the item with a +1 delta. Joinable puts made at once by this process share a transaction (a group
    /// commit: one delta of +N and N items), so that they do not wait for each other's commits one by one.</summary>
    private static async Task<bool> CommitPutAsync(Session session, string queue, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var channels = session.For(queue);
        var puts = LazyInitializer.EnsureInitialized(ref channels.Puts, () => new(batch => CommitPutsAsync(channels, queue, batch), 256));
        return await puts.CommitAsync(body, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<IReadOnlyList<bool>> CommitPutsAsync(QueueChannels channels, string queue, IReadOnlyList<ReadOnlyMemory<byte>> bodies)
    {
        var channel = await channels.Taker.GetAsync(CancellationToken.None).ConfigureAwait(false);
        // The delta goes first: the count never lags behind an item that someone could already take.
        await InTransactionAsync(channels, channel, async () =>
        {
            await channel.BasicPublishAsync("", CounterQueue(queue), mandatory: false, Transient(),
                DeltaBody(bodies.Count), CancellationToken.None).ConfigureAwait(false);
            foreach (var body in bodies)
            {
                await channel.BasicPublishAsync("", queue, mandatory: false, PersistentJoinable(), body, CancellationToken.None).ConfigureAwait(false);
            }
        }, CancellationToken.None).ConfigureAwait(false);
        return [.. bodies.Select(_ => true)];
    }

    /// <summary>Acknowledges an item, in the same transaction as the -1 delta of a JoinableQueue's item. An item whose
    /// channel has closed since it was taken was given back by RabbitMQ: it is not acknowledged (its tag now means
    /// nothing) and will be done again by whoever takes it.</summary>
    private async Task FinishAsync(RabbitMqDelivery delivery, bool acknowledgeItem, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref delivery.Finished, 1) == 1)
        {
            throw new InvalidOperationException($"An item of queue '{delivery.Queue}' was acknowledged twice.");
        }
        var item = delivery.Taken;
        if (!acknowledgeItem)
        {
            // A plain Get of a JoinableQueue's item finishes it. It is acknowledged already: should this process die
            // before the -1 is confirmed, Join waits for ever rather than return while something is unfinished. On a
            // session other than the one it came on, the count was made again after the node restarted, from the
            // items then waiting: this item among them if its acknowledgement was lost, so its -1 is not due.
            await RunAsync(async (session, ct) =>
            {
                if (session.For(delivery.Queue) != delivery.Channels)
                {
                    return false;
                }
                await EnsureCountedAsync(session, delivery.Queue, ct).ConfigureAwait(false);
                var publisher = await session.Publisher.GetAsync(ct).ConfigureAwait(false);
                await publisher.BasicPublishAsync("", CounterQueue(delivery.Queue), mandatory: true, Transient(), MinusOne, ct).ConfigureAwait(false);
                return true;
            }, cancellationToken).ConfigureAwait(false);
            return;
        }
        var channels = delivery.Channels;
        var acks = LazyInitializer.EnsureInitialized(ref channels.Acks, () => new(batch => AcknowledgeAsync(channels, batch), 256));
        bool acknowledged;
        try
        {
            acknowledged = await acks.CommitAsync(delivery, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationInterruptedException e)
        {
            // Not a lost connection, which gives the item back: the broker refused the acknowledgement itself.
            throw new BrokerException($"RabbitMQ at {_url.Display} refused to mark an item of queue '{delivery.Queue}' done: {e.ShutdownReason?.ReplyText ?? e.Message}", e);
        }
        if (!acknowledged)
        {
            return;
        }
        if (item.Joinable && Interlocked.Increment(ref delivery.Channels.Finished) % SumEvery == 0)
        {
            _ = SumInBackgroundAsync(delivery.Queue);
        }
    }

    /// <summary>Publishes a redelivered item again with the count of its deliveries, and acknowledges the old copy, in
    /// one transaction: a classic queue keeps no count, and a Pool gives up on a task after so many deliveries. The
    /// count is unchanged (the item is still unfinished), and the item goes to the back of the queue. A bounded queue
    /// skips this, as the new copy could be refused while the old one is taken: there Attempt stops at 2.</summary>
    private static Task RecountAsync(QueueChannels channels, string queue, Taken taken) =>
        InTransactionAsync(channels, taken.Channel, async () =>
        {
            await taken.Channel.BasicPublishAsync("", queue, mandatory: false, Republished(taken), taken.Body, CancellationToken.None).ConfigureAwait(false);
            await taken.Channel.BasicAckAsync(taken.Tag, multiple: false, CancellationToken.None).ConfigureAwait(false);
        }, CancellationToken.None);

    /// <summary>The properties of a new copy of <paramref name="taken"/> that counts every delivery of the item so far.</summary>
    private static BasicProperties Republished(Taken taken)
    {
        var headers = new Dictionary<string, object?> { [Taken.DeliveriesHeader] = taken.Attempt - 1 };
        if (taken.Joinable)
        {
            headers[Taken.JoinableHeader] = true;
        }
        return new BasicProperties { Persistent = true, Headers = headers };
    }

    private static async Task GiveBackAsync(QueueChannels channels, Taken late, bool transactional)
    {
        try
        {
            if (transactional)
            {
                await InTransactionAsync(channels, late.Channel, () => late.Channel.BasicRejectAsync(late.Tag, requeue: true, CancellationToken.None).AsTask(),
                    CancellationToken.None).ConfigureAwait(false);
            }
            else
            {
                await late.Channel.BasicRejectAsync(late.Tag, requeue: true, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (IsConnectionFault(e))
        {
            // Its channel is gone, and RabbitMQ gave the message back with it.
        }
    }

    /// <summary>Acknowledges items finished at once in one transaction per channel they came on (one, unless the
    /// connection was replaced meanwhile), with one delta for the joinable ones: a group commit, so that a worker's
    /// marks do not wait for each other's commits one by one. Returns, for each, whether it was acknowledged; one whose
    /// channel closed was given back by RabbitMQ instead.</summary>
    private async Task<IReadOnlyList<bool>> AcknowledgeAsync(QueueChannels channels, IReadOnlyList<RabbitMqDelivery> batch)
    {
        var acknowledged = new Dictionary<RabbitMqDelivery, bool>();
        foreach (var group in batch.GroupBy(delivery => delivery.Taken.Channel))
        {
            var channel = group.Key;
            if (!channel.IsOpen)
            {
                GiveBack(group, null);
                continue;
            }
            try
            {
                await InTransactionAsync(channels, channel, async () =>
                {
                    if (group.Count(delivery => delivery.Taken.Joinable) is var joinable and > 0)
                    {
                        await channel.BasicPublishAsync("", CounterQueue(group.First().Queue), mandatory: false, Transient(),
                            DeltaBody(-joinable), CancellationToken.None).ConfigureAwait(false);
                    }
                    foreach (var delivery in group)
                    {
                        await channel.BasicAckAsync(delivery.Taken.Tag, multiple: false, CancellationToken.None).ConfigureAwait(false);
                    }
                }, CancellationToken.None).ConfigureAwait(false);
                foreach (var delivery in group)
                {
                    acknowledged[delivery] = true;
                }
            }
            catch (Exception e) when (IsConnectionFault(e))
            {
                GiveBack(group, e);
            }
        }
        return [.. batch.Select(acknowledged.GetValueOrDefault)];

        void GiveBack(IEnumerable<RabbitMqDelivery> deliveries, Exception? reason)
        {
            foreach (var delivery in deliveries)
            {
                GivenBack(delivery, reason);
            }
        }
    }

    private void GivenBack(RabbitMqDelivery delivery, Exception? reason) =>
        _logger.LogWarning("An item of queue {Queue} was done after the connection it came on closed ({Reason}); RabbitMQ gave it back " +
            "and delivers it again, so it may run twice.", delivery.Queue, reason?.Message ?? "closed before");

    /// <summary>Runs <paramref name="steps"/> and commits them, one transaction at a time on the channel. Once begun,
    /// the steps are not cancelled: steps left uncommitted would join the channel's next transaction.</summary>
    private static async Task InTransactionAsync(QueueChannels channels, IChannel channel, Func<Task> steps, CancellationToken cancellationToken)
    {
        await channels.Transaction.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await steps().ConfigureAwait(false);
            await channel.TxCommitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch when (channel.IsOpen)
        {
            await channel.TxRollbackAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        finally
        {
            channels.Transaction.Release();
        }
    }

    /// <summary>Takes one message: basic.get, and when the queue is empty a consumer of one delivery until
    /// <paramref name="timeout"/>. A message that arrived by the time the wait ended is returned, so that its delivery
    /// count stays true; one that arrives after that, sent before RabbitMQ saw the cancel, goes to
    /// <paramref name="giveBackLate"/>.</summary>
    private static async Task<Taken?> TakeAsync(IChannel channel, string queue, TimeSpan timeout, Func<Taken, Task> giveBackLate, CancellationToken cancellationToken)
    {
        var got = await channel.BasicGetAsync(queue, autoAck: false, cancellationToken).ConfigureAwait(false);
        if (got is not null)
        {
            return Taken.From(channel, got.DeliveryTag, got.Redelivered, got.BasicProperties, got.Body);
        }
        if (timeout == TimeSpan.Zero)
        {
            return null;
        }
        var consumer = new SingleDelivery(channel);
        var tag = await channel.BasicConsumeAsync(queue, autoAck: false, consumer, cancellationToken).ConfigureAwait(false);
        try
        {
            await consumer.Received.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
        }
        finally
        {
            // Waiting for cancel-ok: the client forgets a consumer cancelled without waiting at once, so a message that
            // RabbitMQ sent before it saw the cancel (a wait that timed out or was cancelled as it came) would reach no
            // consumer and stay taken on this channel. Until cancel-ok, such a message still reaches this one.
            if (channel.IsOpen)
            {
                await channel.BasicCancelAsync(tag, noWait: false, CancellationToken.None).ConfigureAwait(false);
            }
        }
        var received = consumer.Received;
        if (received.IsCompletedSuccessfully)
        {
            return received.Result;
        }
        _ = received.ContinueWith(late => giveBackLate(late.Result), CancellationToken.None,
            TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default).Unwrap();
        cancellationToken.ThrowIfCancellationRequested();
        if (received.IsCanceled)
        {
            throw new BrokerException($"RabbitMQ ended the wait on queue '{queue}': the queue was deleted.");
        }
        return received.IsFaulted ? await received.ConfigureAwait(false) : null;
    }

    private async Task<QueueDeclareOk> PassiveDeclareAsync(IChannel admin, string queue, CancellationToken cancellationToken)
    {
        try
        {
            return await admin.QueueDeclarePassiveAsync(queue, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationInterruptedException e) when (ReplyCode(e) == 404)
        {
            throw new BrokerException($"Queue '{queue}' does not exist on RabbitMQ at {_url.Display}.", e);
        }
    }

    /// <summary>Tries <paramref name="attempt"/> until it succeeds or <paramref name="timeout"/> passes, pausing a
    /// little longer each time: RabbitMQ rings no bell when a full queue drains or a count reaches zero.</summary>
    private static async Task<bool> UntilAsync(TimeSpan timeout, Func<CancellationToken, Task<bool>> attempt, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var pause = FirstPause;
        while (!await attempt(cancellationToken).ConfigureAwait(false))
        {
            var remaining = timeout == Timeout.InfiniteTimeSpan ? pause : timeout - clock.Elapsed;
            if (remaining <= TimeSpan.Zero)
            {
                return false;
            }
            await Task.Delay(remaining < pause ? remaining : pause, cancellationToken).ConfigureAwait(false);
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
            return await _retry.ExecuteAsync(async ct => await operation(await _session.GetAsync(ct).ConfigureAwait(false), ct).ConfigureAwait(false),
                cancellationToken).ConfigureAwait(false);
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

/// <summary>An item taken from a RabbitMQ queue, with the channel that must acknowledge it.</summary>
internal sealed class RabbitMqDelivery(string queue, Taken taken, QueueChannels channels)
    : Delivery(queue, taken.Body, taken.Attempt, taken.Unreadable)
{
    public int Finished;

    public Taken Taken { get; } = taken;

    public QueueChannels Channels { get; } = channels;
}
