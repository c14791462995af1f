using System.Collections.Concurrent;
using RabbitMQ.Client;

namespace Broker.Transport.RabbitMq;

/// <summary>One connection and its channels. A lost connection is not recovered in place: the transport opens a new
/// session, so that no delivery tag of an old channel is ever acknowledged on a new one.</summary>
internal sealed class Session(IConnection connection, TimeProvider time) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, QueueChannels> _queues = new();

    public IConnection Connection { get; } = connection;

    public bool IsOpen => Connection.IsOpen;

    /// <summary>Publishes plain items: publisher confirms tracked by the client, with a window of publishes in flight.</summary>
    public Reopening<IChannel> Publisher { get; } = ChannelSlot.Of(connection, new CreateChannelOptions(
        publisherConfirmationsEnabled: true,
        publisherConfirmationTrackingEnabled: true,
        outstandingPublisherConfirmationsRateLimiter: new ThrottlingRateLimiter(512)));

    /// <summary>Declares and counts: a failed passive declare closes this channel and nothing else.</summary>
    public Reopening<IChannel> Admin { get; } = ChannelSlot.Of(connection, null);

    public QueueChannels For(string queue) => _queues.GetOrAdd(queue, _ => new QueueChannels(Connection, time));

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
internal sealed class QueueChannels(IConnection connection, TimeProvider time)
{
    private readonly SemaphoreSlim _starting = new(1, 1);
    private Prefetcher? _takerPrefetcher;
    private Prefetcher? _readerPrefetcher;

    private static readonly Func<IChannel, CancellationToken, Task> PrefetchOne = (channel, ct) =>
        channel.BasicQosAsync(0, 1, global: false, ct);

    /// <summary>Takes items for JoinableQueue, whose TaskDone acknowledges on this same channel, and puts them. It is
    /// transactional, so that an item and its delta of the unfinished count are committed together or not at all.</summary>
    public Reopening<IChannel> Taker { get; } = ChannelSlot.Of(connection, null, async (channel, ct) =>
    {
        await PrefetchOne(channel, ct).ConfigureAwait(false);
        await channel.TxSelectAsync(ct).ConfigureAwait(false);
    });

    /// <summary>Takes items for a plain Queue, acknowledging each as soon as it arrived; Join reads the count here.</summary>
    public Reopening<IChannel> Reader { get; } = ChannelSlot.Of(connection, null, PrefetchOne);

    /// <summary>One transaction at a time on <see cref="Taker"/>: a commit covers everything the channel did.</summary>
    public SemaphoreSlim Transaction { get; } = new(1, 1);

    /// <summary>The standing consumer of <see cref="Taker"/> or <see cref="Reader"/> when the URL sets a prefetch above
    /// one, started on the first Get and again on a channel opened anew.</summary>
    public async ValueTask<Prefetcher> PrefetcherAsync(bool acknowledge, IChannel channel, string queue, ushort prefetch, CancellationToken cancellationToken)
    {
        var running = acknowledge ? _takerPrefetcher : _readerPrefetcher;
        if (running?.Channel == channel)
        {
            return running;
        }
        await _starting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            running = acknowledge ? _takerPrefetcher : _readerPrefetcher;
            if (running?.Channel == channel)
            {
                return running;
            }
            var started = await Prefetcher.StartAsync(channel, queue, prefetch, time, cancellationToken).ConfigureAwait(false);
            if (acknowledge)
            {
                _takerPrefetcher = started;
            }
            else
            {
                _readerPrefetcher = started;
            }
            return started;
        }
        finally
        {
            _starting.Release();
        }
    }

    /// <summary>Joinable puts, committed together when they come at once; made at the first.</summary>
    public GroupCommit<ReadOnlyMemory<byte>, bool>? Puts;

    /// <summary>Acknowledgements, committed together when they come at once; made at the first.</summary>
    public GroupCommit<RabbitMqDelivery, bool>? Acks;

    /// <summary>This process's turn at the queue's lock (see RabbitMqTransport.ExclusivelyAsync).</summary>
    public SemaphoreSlim Exclusive { get; } = new(1, 1);

    /// <summary>Joinable items this process finished on the queue, to sum the deltas now and then.</summary>
    public int Finished;

    /// <summary>Done once this session has seen the queue's unfinished count complete on the node (see
    /// RabbitMqTransport.EnsureCountedAsync).</summary>
    public Task? Counted;
}
