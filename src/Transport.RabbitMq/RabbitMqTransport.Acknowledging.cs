using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Broker.Transport.RabbitMq;

// Acknowledging: an item done, with its -1 delta; redelivered items recounted; items done at once acknowledged together.
internal sealed partial class RabbitMqTransport
{
    /// <summary>Acknowledges an item, in the same transaction as the -1 delta of a JoinableQueue's item. An item whose
    /// channel has closed since it was taken was given back by RabbitMQ: it is not acknowledged (its tag now means
    /// nothing) and will be done again by whoever takes it.</summary>
    internal async Task FinishAsync(RabbitMqDelivery delivery, bool acknowledgeItem, CancellationToken cancellationToken)
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
}
