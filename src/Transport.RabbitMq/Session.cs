using System.Collections.Concurrent;
using RabbitMQ.Client;

namespace Broker.Transport.RabbitMq;

/// <summary>One connection and its channels. A lost connection is not recovered in place: the transport opens a new
/// session, so that no delivery tag of an old channel is ever acknowledged on a new one.</summary>
internal sealed class Session(IConnection connection) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, QueueChannels> _queues = new();

    public IConnection Connection { get; } = connection;

    public bool IsOpen => Connection.IsOpen;

    /// <summary>Publishes plain items: publisher confirms tracked by the client, with a window of publishes in flight.</summary>
    public ChannelSlot Publisher { get; } = new(connection, new CreateChannelOptions(
        publisherConfirmationsEnabled: true,
        publisherConfirmationTrackingEnabled: true,
        outstandingPublisherConfirmationsRateLimiter: new ThrottlingRateLimiter(512)));

    /// <summary>Declares and counts: a failed passive declare closes this channel and nothing else.</summary>
    public ChannelSlot Admin { get; } = new(connection, null);

    public QueueChannels For(string queue) => _queues.GetOrAdd(queue, _ => new QueueChannels(Connection));

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Connection.CloseAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RabbitMQ.Client.Exceptions.AlreadyClosedException or IOException or OperationCanceledException or TimeoutException)
        {
            // The connection is gone already; the broker has given back whatever it delivered on it.
        }
        Connection.Dispose();
    }
}

/// <summary>The channels that take from one queue, so that a channel error on one queue never returns another
/// queue's unfinished items.</summary>
internal sealed class QueueChannels(IConnection connection)
{
    private static readonly Func<IChannel, CancellationToken, Task> PrefetchOne = (channel, ct) =>
        channel.BasicQosAsync(0, 1, global: false, ct);

    /// <summary>Takes items for JoinableQueue, whose TaskDone acknowledges on this same channel. It is transactional,
    /// so that an acknowledgement and the unfinished count change together or not at all.</summary>
    public ChannelSlot Taker { get; } = new(connection, null, async (channel, ct) =>
    {
        await PrefetchOne(channel, ct).ConfigureAwait(false);
        await channel.TxSelectAsync(ct).ConfigureAwait(false);
    });

    /// <summary>Takes items for a plain Queue, acknowledging each as soon as it arrived; Join reads the count here.</summary>
    public ChannelSlot Reader { get; } = new(connection, null, PrefetchOne);

    /// <summary>One transaction at a time on <see cref="Taker"/>: a commit covers everything the channel did.</summary>
    public SemaphoreSlim Transaction { get; } = new(1, 1);
}
