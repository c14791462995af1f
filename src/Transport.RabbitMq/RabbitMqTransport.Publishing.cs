using RabbitMQ.Client.Exceptions;

namespace Broker.Transport.RabbitMq;

// Publishing: confirmed puts, and joinable puts committed with their +1 delta.
internal sealed partial class RabbitMqTransport
{
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
                throw new QueueNotFoundException(queue, $"Queue '{queue}' does not exist on RabbitMQ at {_url.Display}: the item was returned.", e);
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
    private static async Task<bool> CommitPutAsync(Session session, string queue, ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
        await Puts(session, queue).CommitAsync(body, cancellationToken).ConfigureAwait(false);

    /// <summary>Puts the items in one transaction (in as few as there are batches of 256) where the queue is unbounded.
    /// A bounded one checks its length under its lock, item by item.</summary>
    async ValueTask IJoinableQueueBackend.PutAllAsync(string queue, IReadOnlyList<ReadOnlyMemory<byte>> bodies, CancellationToken cancellationToken)
    {
        if (_maxSizes.GetValueOrDefault(queue) != 0)
        {
            foreach (var body in bodies)
            {
                await Joinable.PutAsync(queue, body, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
            }
            return;
        }
        await RunAsync(async (session, ct) =>
        {
            await EnsureCountedAsync(session, queue, ct).ConfigureAwait(false);
            await Puts(session, queue).CommitAllAsync(bodies, ct).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    private static GroupCommit<ReadOnlyMemory<byte>, bool> Puts(Session session, string queue)
    {
        var channels = session.For(queue);
        return LazyInitializer.EnsureInitialized(ref channels.Puts, () => new(batch => CommitPutsAsync(channels, queue, batch), 256));
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
}
