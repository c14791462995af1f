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
/// it asks with basic.get and, when the queue is empty, waits on a consumer that takes a single delivery.
/// <para>AMQP shows a queue's waiting messages but not those delivered and unacknowledged, so a JoinableQueue keeps
/// its unfinished count as deltas in a queue of its own: a Put publishes +1 with the item, and TaskDone publishes -1
/// with the item's acknowledgement, each in one transaction, so a client that dies half-way commits neither. Join
/// takes the queue's lock, sums every delta waiting, and leaves their sum as one message in their place.</para></summary>
internal sealed class RabbitMqTransport : ITransport, IQueueBackend
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan LongestPause = TimeSpan.FromMilliseconds(200);

    /// <summary>The most deltas one pass of <see cref="SumDeltasAsync"/> takes (a prefetch count is 16 bits).</summary>
    private const int DeltasPerPass = 50_000;

    /// <summary>A process sums a queue's deltas after this many of its own task-dones, so that a queue nobody joins
    /// does not grow without end.</summary>
    private const int SumEvery = 1_000;

    private static readonly byte[] MinusOne = DeltaBody(-1);
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
    private readonly ConcurrentDictionary<string, byte> _counted = new();
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
        if (joinable)
        {
            await EnsureCountedAsync(queue, cancellationToken).ConfigureAwait(false);
        }
        return await UntilAsync(timeout, ct => joinable ? PutJoinableAsync(queue, body, ct) : PublishAsync(queue, body, ct), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<Delivery?> GetAsync(string queue, bool acknowledge, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var taken = await RunAsync(async (session, ct) =>
        {
            var channels = session.For(queue);
            var channel = await (acknowledge ? channels.Taker : channels.Reader).GetAsync(ct).ConfigureAwait(false);
            var recount = acknowledge && _maxSizes.GetValueOrDefault(queue) == 0;
            while (true)
            {
                var taken = _prefetch > 1
                    ? await (await channels.PrefetcherAsync(acknowledge, channel, queue, _prefetch, ct).ConfigureAwait(false)).TakeAsync(timeout, ct).ConfigureAwait(false)
                    : await TakeAsync(channel, queue, timeout, late => GiveBackAsync(channels, late, transactional: acknowledge), ct).ConfigureAwait(false);
                if (taken is { Redelivered: true } && recount)
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
        await EnsureCountedAsync(queue, cancellationToken).ConfigureAwait(false);
        return await UntilAsync(timeout, ct => RunAsync(async (session, ct) =>
            await ExclusivelyAsync(session, queue, wait: true, () => SumDeltasAsync(session, queue, ct), ct).ConfigureAwait(false) is (true, 0),
            ct), cancellationToken).ConfigureAwait(false);
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
            await channel.BasicPublishAsync("", CounterQueue(queue), mandatory: false, Persistent(),
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
        if (item.Joinable)
        {
            await EnsureCountedAsync(delivery.Queue, cancellationToken).ConfigureAwait(false);
        }
        if (!acknowledgeItem)
        {
            // A plain Get of a JoinableQueue's item finishes it. It is acknowledged already: should this process die
            // before the -1 is confirmed, Join waits for ever rather than return while something is unfinished.
            await RunAsync(async (session, ct) =>
            {
                var publisher = await session.Publisher.GetAsync(ct).ConfigureAwait(false);
                await publisher.BasicPublishAsync("", CounterQueue(delivery.Queue), mandatory: true, Persistent(), MinusOne, ct).ConfigureAwait(false);
                return true;
            }, cancellationToken).ConfigureAwait(false);
            return;
        }
        var channels = delivery.Channels;
        var acks = LazyInitializer.EnsureInitialized(ref channels.Acks, () => new(batch => AcknowledgeAsync(channels, batch), 256));
        if (!await acks.CommitAsync(delivery, cancellationToken).ConfigureAwait(false))
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
            var headers = new Dictionary<string, object?> { [Taken.DeliveriesHeader] = taken.Attempt - 1 };
            if (taken.Joinable)
            {
                headers[Taken.JoinableHeader] = true;
            }
            await taken.Channel.BasicPublishAsync("", queue, mandatory: false, new BasicProperties { Persistent = true, Headers = headers },
                taken.Body, CancellationToken.None).ConfigureAwait(false);
            await taken.Channel.BasicAckAsync(taken.Tag, multiple: false, CancellationToken.None).ConfigureAwait(false);
        }, CancellationToken.None);

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
                        await channel.BasicPublishAsync("", CounterQueue(group.First().Queue), mandatory: false, Persistent(),
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

    /// <summary>Sums the deltas of a queue's unfinished count: the number of items put and not yet done at the moment
    /// the deltas were counted. Only the holder of the queue's lock takes deltas, so the deltas waiting then are
    /// exactly those committed before; their sum replaces them in the same transaction, on one queue, so the total is
    /// kept even if the broker stops half-way.</summary>
    private static async Task<long> SumDeltasAsync(Session session, string queue, CancellationToken cancellationToken)
    {
        await using var channel = await session.Connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await channel.TxSelectAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var waiting = (await channel.QueueDeclarePassiveAsync(CounterQueue(queue), cancellationToken).ConfigureAwait(false)).MessageCount;
            if (waiting == 0)
            {
                return 0;
            }
            var take = (int)Math.Min(waiting, DeltasPerPass);
            await channel.BasicQosAsync(0, (ushort)take, global: false, cancellationToken).ConfigureAwait(false);
            var deltas = new DeltaSum(channel, queue, take);
            var tag = await channel.BasicConsumeAsync(CounterQueue(queue), autoAck: false, deltas, cancellationToken).ConfigureAwait(false);
            var (sum, lastTag) = await deltas.Summed.WaitAsync(cancellationToken).ConfigureAwait(false);
            await channel.BasicCancelAsync(tag, noWait: false, CancellationToken.None).ConfigureAwait(false);
            if (sum != 0)
            {
                await channel.BasicPublishAsync("", CounterQueue(queue), mandatory: false, Persistent(),
                    DeltaBody(sum), CancellationToken.None).ConfigureAwait(false);
            }
            await channel.BasicAckAsync(lastTag, multiple: true, CancellationToken.None).ConfigureAwait(false);
            await channel.TxCommitAsync(CancellationToken.None).ConfigureAwait(false);
            if (take == waiting)
            {
                return sum;
            }
        }
    }

    private async Task SumInBackgroundAsync(string queue)
    {
        try
        {
            await RunAsync((session, ct) => ExclusivelyAsync(session, queue, wait: false, () => SumDeltasAsync(session, queue, ct), ct),
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is BrokerException or ObjectDisposedException)
        {
            _logger.LogDebug(e, "The unfinished count of queue {Queue} was not summed; the next Join or sum will.", queue);
        }
    }

    /// <summary>Runs <paramref name="action"/> holding the queue's lock: an exclusive queue, which RabbitMQ deletes when
    /// its holder's connection drops, so a dead holder never keeps it. Without <paramref name="wait"/>, a lock held
    /// elsewhere returns <c>Held: false</c> at once.</summary>
    private static async Task<(bool Held, T Result)> ExclusivelyAsync<T>(Session session, string queue, bool wait, Func<Task<T>> action, CancellationToken cancellationToken)
    {
        // An exclusive queue excludes other connections only: processes take turns on it, this process's callers here.
        var local = session.For(queue).Exclusive;
        if (!await local.WaitAsync(wait ? Timeout.InfiniteTimeSpan : TimeSpan.Zero, cancellationToken).ConfigureAwait(false))
        {
            return (false, default!);
        }
        try
        {
            var pause = FirstPause;
            while (true)
            {
                var gate = await session.Connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                try
                {
                    await gate.QueueDeclareAsync(LockQueue(queue), durable: false, exclusive: true, autoDelete: false, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                catch (OperationInterruptedException e) when (ReplyCode(e) == 405)
                {
                    gate.Dispose();
                    if (!wait)
                    {
                        return (false, default!);
                    }
                    await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
                    pause = Next(pause);
                    continue;
                }
                try
                {
                    return (true, await action().ConfigureAwait(false));
                }
                finally
                {
                    if (gate.IsOpen)
                    {
                        await gate.QueueDeleteAsync(LockQueue(queue), ifUnused: false, ifEmpty: false, cancellationToken: CancellationToken.None).ConfigureAwait(false);
                    }
                    gate.Dispose();
                }
            }
        }
        finally
        {
            local.Release();
        }
    }

    /// <summary>Declares the queue of a JoinableQueue's deltas, once per process.</summary>
    private async Task EnsureCountedAsync(string queue, CancellationToken cancellationToken)
    {
        if (_counted.ContainsKey(queue))
        {
            return;
        }
        await RunAsync(async (session, ct) =>
        {
            var admin = await session.Admin.GetAsync(ct).ConfigureAwait(false);
            await admin.QueueDeclareAsync(CounterQueue(queue), durable: true, exclusive: false, autoDelete: false, Classic, cancellationToken: ct).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
        _counted.TryAdd(queue, 0);
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
        try
        {
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

    internal static string CounterQueue(string queue) => "broker.unfinished." + queue;

    /// <summary>A message of the counter queue: a change of the unfinished count, as text.</summary>
    private static byte[] DeltaBody(long delta) => Encoding.ASCII.GetBytes(delta.ToString(CultureInfo.InvariantCulture));

    private static string LockQueue(string queue) => "broker.lock." + queue;
}

/// <summary>An item taken from a RabbitMQ queue, with the channel that must acknowledge it.</summary>
internal sealed class RabbitMqDelivery(string queue, Taken taken, QueueChannels channels)
    : Delivery(queue, taken.Body, taken.Attempt)
{
    public int Finished;

    public Taken Taken { get; } = taken;

    public QueueChannels Channels { get; } = channels;
}
