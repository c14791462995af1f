using RabbitMQ.Client;

namespace Broker.Transport.RabbitMq;

/// <summary>Something opened on first use and opened anew once it has closed: the connection, or a channel that the
/// broker closed for an error. Callers that find it closed at once share one opening.</summary>
internal sealed class Reopening<T>(Func<CancellationToken, Task<T>> open, Func<T, bool> isOpen, Func<T, ValueTask> close)
    where T : class
{
    private readonly SemaphoreSlim _opening = new(1, 1);
    private T? _current;

    /// <summary>What was opened last, open or not; <c>null</c> before the first use.</summary>
    public T? Current => _current;

    public async ValueTask<T> GetAsync(CancellationToken cancellationToken)
    {
        if (_current is { } current && isOpen(current))
        {
            return current;
        }
        await _opening.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_current is { } reopened && isOpen(reopened))
            {
                return reopened;
            }
            if (_current is { } closed)
            {
                await close(closed).ConfigureAwait(false);
            }
            return _current = await open(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _opening.Release();
        }
    }
}

/// <summary>A channel of a connection. A delivery keeps the channel it came on: once that channel is closed, its tag
/// means nothing, and the next use opens a new channel.</summary>
internal static class ChannelSlot
{
    public static Reopening<IChannel> Of(IConnection connection, CreateChannelOptions? options, Func<IChannel, CancellationToken, Task>? prepare = null) =>
        new(async cancellationToken =>
        {
            var channel = await connection.CreateChannelAsync(options, cancellationToken).ConfigureAwait(false);
            if (prepare is not null)
            {
                await prepare(channel, cancellationToken).ConfigureAwait(false);
            }
            return channel;
        }, channel => channel.IsOpen, channel =>
        {
            channel.Dispose();
            return default;
        });
}
