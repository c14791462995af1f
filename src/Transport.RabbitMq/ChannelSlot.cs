using RabbitMQ.Client;

namespace Broker.Transport.RabbitMq;

/// <summary>One channel of a connection, opened on first use and opened again after the broker closed it for an
/// error. A delivery keeps the channel it came on: once that channel is closed its tag means nothing.</summary>
internal sealed class ChannelSlot(IConnection connection, CreateChannelOptions? options, Func<IChannel, CancellationToken, Task>? prepare = null)
{
    private readonly SemaphoreSlim _opening = new(1, 1);
    private IChannel? _channel;

    public async ValueTask<IChannel> GetAsync(CancellationToken cancellationToken)
    {
        if (_channel is { IsOpen: true } open)
        {
            return open;
        }
        await _opening.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_channel is { IsOpen: true } reopened)
            {
                return reopened;
            }
            _channel?.Dispose();
            var channel = await connection.CreateChannelAsync(options, cancellationToken).ConfigureAwait(false);
            if (prepare is not null)
            {
                await prepare(channel, cancellationToken).ConfigureAwait(false);
            }
            return _channel = channel;
        }
        finally
        {
            _opening.Release();
        }
    }
}
