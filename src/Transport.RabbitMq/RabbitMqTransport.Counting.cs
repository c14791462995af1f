using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Broker.Transport.RabbitMq;

/// <summary>A JoinableQueue's unfinished count. AMQP shows a queue's waiting messages but not those delivered and
/// unacknowledged, so the count is kept as deltas in a queue of its own: a Put publishes +1 with the item, and TaskDone
/// publishes -1 with the item's acknowledgement, each in one transaction, so a client that dies half-way commits
/// neither. Join takes the queue's lock, sums every delta waiting, and leaves their sum as one message in their place.
/// <para>A node that crashes keeps published messages but can lose acknowledgements made just before (a transaction
/// is not atomic across a crash): a -1 would then outlive the acknowledgement of its item, which comes back and is done
/// again. So the count never outlives the node: its queue is transient, gone when the node restarts. At that moment no
/// item is taken (every connection closed with the node), so the count is exactly the number of joinable items waiting
/// (a plain Queue handle's items in the same queue are not counted), and the first client of the new node sets it so,
/// under the queue's lock, before any client takes or puts. A transient marker queue, declared last, says that the
/// count is complete; every session checks it before its first joinable step on a queue.</para></summary>
internal sealed partial class RabbitMqTransport
{
    /// <summary>The most deltas one pass of <see cref="SumDeltasAsync"/> takes (a prefetch count is 16 bits).</summary>
    private const int DeltasPerPass = 50_000;

    /// <summary>A process sums a queue's deltas after this many of its own task-dones, so that a queue nobody joins
    /// does not grow without end.</summary>
    private const int SumEvery = 1_000;

    private static readonly byte[] MinusOne = DeltaBody(-1);

    // Deltas live no longer than their transient queue: persisting them would buy nothing.
    private static BasicProperties Transient() => new();

    /// <summary>Makes sure that <paramref name="session"/> has seen the queue's count complete, setting it from the
    /// items waiting when this node has none yet; once per session and queue.</summary>
    private Task EnsureCountedAsync(Session session, string queue, CancellationToken cancellationToken)
    {
        var channels = session.For(queue);
        var counted = Volatile.Read(ref channels.Counted);
        if (counted is { IsCompletedSuccessfully: true })
        {
            return counted;
        }
        lock (channels)
        {
            if (channels.Counted is null || channels.Counted.IsFaulted || channels.Counted.IsCanceled)
            {
                channels.Counted = CountOnceAsync(session, queue);
            }
            return channels.Counted.WaitAsync(cancellationToken);
        }
    }

    private async Task CountOnceAsync(Session session, string queue)
    {
        if (await ExistsAsync(session, CountedQueue(queue)).ConfigureAwait(false))
        {
            return;
        }
        await ExclusivelyAsync(session, queue, wait: true, async () =>
        {
            if (await ExistsAsync(session, CountedQueue(queue)).ConfigureAwait(false))
            {
                return true;
            }
            await using var channel = await session.Connection.CreateChannelAsync(
                new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)).ConfigureAwait(false);
            // A count that a client began and did not finish (it died holding the lock) is made again from the start.
            await channel.QueueDeleteAsync(CounterQueue(queue), ifUnused: false, ifEmpty: false).ConfigureAwait(false);
            var waiting = await CountJoinableWaitingAsync(session.Connection, queue).ConfigureAwait(false);
            await channel.QueueDeclareAsync(CounterQueue(queue), durable: false, exclusive: false, autoDelete: false, Classic).ConfigureAwait(false);
            if (waiting > 0)
            {
                await channel.BasicPublishAsync("", CounterQueue(queue), mandatory: true, Transient(), DeltaBody(waiting)).ConfigureAwait(false);
            }
            await channel.QueueDeclareAsync(CountedQueue(queue), durable: false, exclusive: false, autoDelete: false, Classic).ConfigureAwait(false);
            return true;
        }, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Counts the joinable items waiting in <paramref name="queue"/>, which only their headers tell apart: each
    /// waiting message is taken and published again at the back, in order, with its count of deliveries kept exact (a
    /// message given back instead would count one delivery more), all in one transaction. Nobody else takes meanwhile:
    /// every joinable client waits for this count.</summary>
    private static async Task<long> CountJoinableWaitingAsync(IConnection connection, string queue)
    {
        await using var channel = await connection.CreateChannelAsync().ConfigureAwait(false);
        await channel.TxSelectAsync().ConfigureAwait(false);
        var waiting = (await channel.QueueDeclarePassiveAsync(queue).ConfigureAwait(false)).MessageCount;
        long joinable = 0;
        ulong last = 0;
        for (var i = 0u; i < waiting && await channel.BasicGetAsync(queue, autoAck: false).ConfigureAwait(false) is { } got; i++)
        {
            var taken = Taken.From(channel, got.DeliveryTag, got.Redelivered, got.BasicProperties, got.Body);
            joinable += taken.Joinable ? 1 : 0;
            // Headers that cannot be read go on as they came, for the consumer to dead-letter.
            var properties = taken.Unreadable is null ? Republished(taken) : new BasicProperties(got.BasicProperties);
            await channel.BasicPublishAsync("", queue, mandatory: false, properties, taken.Body).ConfigureAwait(false);
            last = got.DeliveryTag;
        }
        if (last > 0)
        {
            await channel.BasicAckAsync(last, multiple: true).ConfigureAwait(false);
        }
        await channel.TxCommitAsync().ConfigureAwait(false);
        return joinable;
    }

    /// <summary>Whether a queue exists: a passive declare of a missing queue closes its channel, so it gets its own.</summary>
    private static async Task<bool> ExistsAsync(Session session, string queue)
    {
        await using var probe = await session.Connection.CreateChannelAsync().ConfigureAwait(false);
        try
        {
            await probe.QueueDeclarePassiveAsync(queue).ConfigureAwait(false);
            return true;
        }
        catch (OperationInterruptedException e) when (ReplyCode(e) == 404)
        {
            return false;
        }
    }

    /// <summary>Sums the deltas of a queue's unfinished count: the number of items put and not yet done at the moment
    /// the deltas were counted. Only the holder of the queue's lock takes deltas, so the deltas waiting then are
    /// exactly those committed before; their sum replaces them in the same transaction, on one queue.</summary>
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
            // Only a message that something else published with Broker's joinable header can take the count below zero
            // (a Put's +1 is committed before its item can be taken): it was never counted.
            sum = Math.Max(sum, 0);
            await channel.BasicCancelAsync(tag, noWait: false, CancellationToken.None).ConfigureAwait(false);
            if (sum != 0)
            {
                await channel.BasicPublishAsync("", CounterQueue(queue), mandatory: false, Transient(),
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
            await RunAsync(async (session, ct) =>
            {
                await EnsureCountedAsync(session, queue, ct).ConfigureAwait(false);
                return await ExclusivelyAsync(session, queue, wait: false, () => SumDeltasAsync(session, queue, ct), ct).ConfigureAwait(false);
            }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is BrokerException or ObjectDisposedException)
        {
            _logger.LogDebug(e, "The unfinished count of queue {Queue} was not summed; the next Join or sum will.", queue);
        }
    }

    /// <summary>Runs <paramref name="action"/> holding the queue's lock: an exclusive queue, which RabbitMQ deletes when
    /// its holder's connection drops, so a dead holder never keeps it. Without <paramref name="wait"/>, a lock held
    /// elsewhere returns <c>Held: false</c> at once.</summary>
    private async Task<(bool Held, T Result)> ExclusivelyAsync<T>(Session session, string queue, bool wait, Func<Task<T>> action, CancellationToken cancellationToken)
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
                    await Task.Delay(pause, _time, cancellationToken).ConfigureAwait(false);
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

    internal static string CounterQueue(string queue) => "broker.unfinished." + queue;

    /// <summary>The marker that the count of <paramref name="queue"/> is complete on this node.</summary>
    private static string CountedQueue(string queue) => "broker.counted." + queue;

    /// <summary>A message of the counter queue: a change of the unfinished count, as text.</summary>
    private static byte[] DeltaBody(long delta) => Encoding.ASCII.GetBytes(delta.ToString(CultureInfo.InvariantCulture));

    private static string LockQueue(string queue) => "broker.lock." + queue;
}
