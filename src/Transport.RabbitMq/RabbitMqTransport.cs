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

/// <summary>Queues on RabbitMQ. Items are persistent messages in durable queues: quorum queues, which count
/// deliveries, or classic queues for a maxsize, whose length limit RabbitMQ enforces exactly. A plain Put returns once
/// the broker confirmed it, with many publishes in flight on one channel. A Get takes one message and never hoards:
/// it asks with basic.get and, when the queue is empty, waits on a consumer that takes a single delivery.
/// <para>AMQP shows a queue's waiting messages but not those delivered and unacknowledged, so JoinableQueue keeps
/// its unfinished count in a counter message of its own queue: a Put or TaskDone takes the counter, and in one
/// transaction publishes the item (or acknowledges it) with the new count and acknowledges the old one. A client that
/// dies mid-way commits nothing and RabbitMQ gives the counter back, so Join, which reads it, is exact.</para></summary>
internal sealed class RabbitMqTransport : ITransport, IQueueBackend
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan LongestPause = TimeSpan.FromMilliseconds(200);
    private static readonly BasicProperties Persistent = new() { Persistent = true };
    private static readonly BasicProperties PersistentJoinable = new()
    {
        Persistent = true,
        Headers = new Dictionary<string, object?> { [Taken.JoinableHeader] = true },
    };

    private readonly BrokerUrl _url;
    private readonly ILogger _logger;
    private readonly ConnectionFactory _factory;
    private readonly ResiliencePipeline _retry;
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private readonly ConcurrentDictionary<string, int> _maxSizes = new();
    private readonly ConcurrentDictionary<string, Lazy<Task>> _counters = new();
    private Session? _session;
    private int _disposed;

    public RabbitMqTransport(BrokerUrl url, ILogger logger)
    {
        _url = url;
        _logger = logger;
        _factory = new ConnectionFactory
        {
            Uri = url.Uri,
            // A lost connection is replaced by a new session, never recovered under the old channels' tags.
            AutomaticRecoveryEnabled = false,
            ClientProvidedName = $"broker pid {Environment.ProcessId}",
            RequestedConnectionTimeout = TimeSpan.FromSeconds(5),
        };
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
            : new Dictionary<string, object?> { ["x-queue-type"] = "quorum" };
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
            await EnsureCounterAsync(queue, cancellationToken).ConfigureAwait(false);
        }
        return await UntilAsync(timeout, ct => joinable ? PutJoinableAsync(queue, body, ct) : PublishAsync(queue, body, ct), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<Delivery?> GetAsync(string queue, bool acknowledge, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var taken = await RunAsync(async (session, ct) =>
        {
            var channels = session.For(queue);
            var channel = await (acknowledge ? channels.Taker : channels.Reader).GetAsync(ct).ConfigureAwait(false);
            var taken = await TakeAsync(channel, queue, timeout, ct).ConfigureAwait(false);
            if (taken is not null && !acknowledge)
            {
                await channel.BasicAckAsync(taken.Tag, multiple: false, CancellationToken.None).ConfigureAwait(false);
            }
            return (Taken: taken, Channels: channels);
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
        await EnsureCounterAsync(queue, cancellationToken).ConfigureAwait(false);
        return await UntilAsync(timeout, ct => RunAsync(async (session, ct) =>
        {
            // A look at the counter: taken and given straight back. While a Put or TaskDone holds it, look again.
            var channel = await session.For(queue).Reader.GetAsync(ct).ConfigureAwait(false);
            var counter = await channel.BasicGetAsync(CounterQueue(queue), autoAck: false, ct).ConfigureAwait(false);
            if (counter is null)
            {
                return false;
            }
            await channel.BasicRejectAsync(counter.DeliveryTag, requeue: true, CancellationToken.None).ConfigureAwait(false);
            return ParseCount(queue, counter.Body.Span) <= 0;
        }, ct), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes the connection. RabbitMQ returns at once every item this process took and did not finish.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        if (_session is { } session)
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
                await publisher.BasicPublishAsync("", queue, mandatory: true, Persistent, body, ct).ConfigureAwait(false);
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

    /// <summary>Publishes an item and the unfinished count plus one in one transaction, holding the counter; with a
    /// maxsize, the queue's length is read while the counter is held, so that no other joinable Put can race it.</summary>
    private async Task<bool> PutJoinableAsync(string queue, ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
        await RunAsync(async (session, ct) =>
        {
            var channels = session.For(queue);
            await channels.Transaction.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                var channel = await channels.Taker.GetAsync(ct).ConfigureAwait(false);
                var (counterTag, count) = await TakeCounterAsync(channel, queue, ct).ConfigureAwait(false);
                // Holding the counter: from here on nothing is cancelled half-way, or the counter would stay taken.
                var maxSize = _maxSizes.GetValueOrDefault(queue);
                if (maxSize > 0)
                {
                    var admin = await session.Admin.GetAsync(CancellationToken.None).ConfigureAwait(false);
                    if ((await PassiveDeclareAsync(admin, queue, CancellationToken.None).ConfigureAwait(false)).MessageCount >= maxSize)
                    {
                        await channel.BasicRejectAsync(counterTag, requeue: true, CancellationToken.None).ConfigureAwait(false);
                        await channel.TxCommitAsync(CancellationToken.None).ConfigureAwait(false);
                        return false;
                    }
                }
                await channel.BasicPublishAsync("", queue, mandatory: false, PersistentJoinable, body, CancellationToken.None).ConfigureAwait(false);
                await ReplaceCounterAsync(channel, queue, counterTag, count + 1).ConfigureAwait(false);
                return true;
            }
            finally
            {
                channels.Transaction.Release();
            }
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>Acknowledges a JoinableQueue item, with the unfinished count minus one in the same transaction. An item
    /// whose channel has closed since it was taken was given back by RabbitMQ: it is not acknowledged (its tag now means
    /// nothing) and will be done again by whoever takes it.</summary>
    private async Task FinishAsync(RabbitMqDelivery delivery, bool acknowledgeItem, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref delivery.Finished, 1) == 1)
        {
            throw new InvalidOperationException($"An item of queue '{delivery.Queue}' was acknowledged twice.");
        }
        var item = delivery.Taken;
        var channels = delivery.Channels;
        if (item.Joinable)
        {
            await EnsureCounterAsync(delivery.Queue, cancellationToken).ConfigureAwait(false);
        }
        await channels.Transaction.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (acknowledgeItem && !item.Channel.IsOpen)
            {
                GivenBack(delivery, null);
                return;
            }
            // The count changes on the channel the item came on, so that its acknowledgement is in the transaction.
            var channel = acknowledgeItem ? item.Channel : await channels.Taker.GetAsync(cancellationToken).ConfigureAwait(false);
            if (!item.Joinable)
            {
                await channel.BasicAckAsync(item.Tag, multiple: false, CancellationToken.None).ConfigureAwait(false);
                await channel.TxCommitAsync(CancellationToken.None).ConfigureAwait(false);
                return;
            }
            var (counterTag, count) = await TakeCounterAsync(channel, delivery.Queue, cancellationToken).ConfigureAwait(false);
            if (acknowledgeItem)
            {
                await channel.BasicAckAsync(item.Tag, multiple: false, CancellationToken.None).ConfigureAwait(false);
            }
            await ReplaceCounterAsync(channel, delivery.Queue, counterTag, count - 1).ConfigureAwait(false);
        }
        catch (Exception e) when (acknowledgeItem && IsConnectionFault(e))
        {
            GivenBack(delivery, e);
        }
        finally
        {
            channels.Transaction.Release();
        }
    }

    private void GivenBack(RabbitMqDelivery delivery, Exception? reason) =>
        _logger.LogWarning("An item of queue {Queue} was done after the connection it came on closed ({Reason}); RabbitMQ gave it back " +
            "and delivers it again, so it may run twice.", delivery.Queue, reason?.Message ?? "closed before");

    private static async Task ReplaceCounterAsync(IChannel channel, string queue, ulong counterTag, long count)
    {
        await channel.BasicPublishAsync("", CounterQueue(queue), mandatory: false, Persistent,
            Encoding.ASCII.GetBytes(count.ToString(CultureInfo.InvariantCulture)), CancellationToken.None).ConfigureAwait(false);
        await channel.BasicAckAsync(counterTag, multiple: false, CancellationToken.None).ConfigureAwait(false);
        await channel.TxCommitAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private static async Task<(ulong Tag, long Count)> TakeCounterAsync(IChannel channel, string queue, CancellationToken cancellationToken)
    {
        var counter = await TakeAsync(channel, CounterQueue(queue), Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false)
            ?? throw new BrokerException($"The unfinished count of queue '{queue}' could not be taken.");
        return (counter.Tag, ParseCount(queue, counter.Body));
    }

    /// <summary>Takes one message: basic.get, and when the queue is empty a consumer of one delivery until
    /// <paramref name="timeout"/>. A message that arrives as the wait ends is returned rather than sent back, so that
    /// its delivery count stays true.</summary>
    private static async Task<Taken?> TakeAsync(IChannel channel, string queue, TimeSpan timeout, CancellationToken cancellationToken)
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
        cancellationToken.ThrowIfCancellationRequested();
        if (received.IsCanceled)
        {
            throw new BrokerException($"RabbitMQ ended the wait on queue '{queue}': the queue was deleted.");
        }
        return received.IsFaulted ? await received.ConfigureAwait(false) : null;
    }

    /// <summary>Creates the counter of a JoinableQueue's unfinished items once, under a lock that RabbitMQ frees if
    /// its holder dies: an exclusive queue. The marker queue, declared last, says that the counter message exists;
    /// until it does nobody takes the counter, so an empty counter queue then means a creator died before publishing.</summary>
    private Task EnsureCounterAsync(string queue, CancellationToken cancellationToken) =>
        _counters.GetOrAdd(queue, q => new Lazy<Task>(() => RunAsync((session, ct) => CreateCounterAsync(session, q, ct), CancellationToken.None)))
            .Value.WaitAsync(cancellationToken);

    private async Task<bool> CreateCounterAsync(Session session, string queue, CancellationToken cancellationToken)
    {
        var pause = FirstPause;
        while (true)
        {
            await using var gate = await session.Connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            try
            {
                await gate.QueueDeclareAsync(LockQueue(queue), durable: false, exclusive: true, autoDelete: true, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (OperationInterruptedException e) when (ReplyCode(e) == 405)
            {
                await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
                pause = Next(pause);
                continue;
            }
            var admin = await session.Admin.GetAsync(cancellationToken).ConfigureAwait(false);
            if (!await ExistsAsync(admin, MarkerQueue(queue), cancellationToken).ConfigureAwait(false))
            {
                admin = await session.Admin.GetAsync(cancellationToken).ConfigureAwait(false);
                // Classic: a quorum queue would drop a message given back too often, and Join gives the counter back.
                await admin.QueueDeclareAsync(CounterQueue(queue), durable: true, exclusive: false, autoDelete: false,
                    new Dictionary<string, object?> { ["x-queue-type"] = "classic" }, cancellationToken: cancellationToken).ConfigureAwait(false);
                if ((await PassiveDeclareAsync(admin, CounterQueue(queue), cancellationToken).ConfigureAwait(false)).MessageCount == 0)
                {
                    var publisher = await session.Publisher.GetAsync(cancellationToken).ConfigureAwait(false);
                    await publisher.BasicPublishAsync("", CounterQueue(queue), mandatory: true, Persistent, "0"u8.ToArray(), cancellationToken).ConfigureAwait(false);
                }
                await admin.QueueDeclareAsync(MarkerQueue(queue), durable: true, exclusive: false, autoDelete: false,
                    new Dictionary<string, object?> { ["x-queue-type"] = "classic" }, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            await gate.QueueDeleteAsync(LockQueue(queue), ifUnused: false, ifEmpty: false, cancellationToken: cancellationToken).ConfigureAwait(false);
            return true;
        }
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

    private static async Task<bool> ExistsAsync(IChannel admin, string queue, CancellationToken cancellationToken)
    {
        try
        {
            await admin.QueueDeclarePassiveAsync(queue, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationInterruptedException e) when (ReplyCode(e) == 404)
        {
            return false;
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
            return await _retry.ExecuteAsync(async ct => await operation(await SessionAsync(ct).ConfigureAwait(false), ct).ConfigureAwait(false),
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

    private async ValueTask<Session> SessionAsync(CancellationToken cancellationToken)
    {
        if (_session is { IsOpen: true } open)
        {
            return open;
        }
        await _connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_session is { IsOpen: true } reopened)
            {
                return reopened;
            }
            if (_session is { } old)
            {
                await old.DisposeAsync().ConfigureAwait(false);
            }
            ObjectDisposedException.ThrowIf(_disposed == 1, this);
            return _session = new Session(await _factory.CreateConnectionAsync(cancellationToken).ConfigureAwait(false));
        }
        finally
        {
            _connecting.Release();
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

    private static long ParseCount(string queue, ReadOnlySpan<byte> body) =>
        long.TryParse(Encoding.ASCII.GetString(body), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var count)
            ? count
            : throw new BrokerException($"The unfinished count of queue '{queue}' on RabbitMQ is unreadable; was {CounterQueue(queue)} written by something else?");

    private static string CounterQueue(string queue) => "broker.unfinished." + queue;

    private static string MarkerQueue(string queue) => "broker.counted." + queue;

    private static string LockQueue(string queue) => "broker.counting." + queue;
}

/// <summary>An item taken from a RabbitMQ queue, with the channel that must acknowledge it.</summary>
internal sealed class RabbitMqDelivery(string queue, Taken taken, QueueChannels channels)
    : Delivery(queue, taken.Body, taken.Attempt)
{
    public int Finished;

    public Taken Taken { get; } = taken;

    public QueueChannels Channels { get; } = channels;
}
