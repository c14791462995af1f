using RabbitMQ.Client;

namespace Broker.Transport.RabbitMq;

/// <summary>A consumer that takes one message and no more: the channel's prefetch of one holds back the next until
/// the first is acknowledged, and the consumer is cancelled before that.</summary>
internal sealed class SingleDelivery(IChannel channel) : AsyncDefaultBasicConsumer(channel)
{
    private readonly TaskCompletionSource<Taken> _received = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<Taken> Received => _received.Task;

    public override Task HandleBasicDeliverAsync(string consumerTag, ulong deliveryTag, bool redelivered, string exchange, string routingKey,
        IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        _received.TrySetResult(Taken.From(Channel, deliveryTag, redelivered, properties, body));
        return Task.CompletedTask;
    }

    /// <summary>RabbitMQ cancelled the consumer itself: the queue was deleted.</summary>
    public override async Task HandleBasicCancelAsync(string consumerTag, CancellationToken cancellationToken = default)
    {
        await base.HandleBasicCancelAsync(consumerTag, cancellationToken).ConfigureAwait(false);
        _received.TrySetCanceled(CancellationToken.None);
    }

    public override Task HandleChannelShutdownAsync(object channel, RabbitMQ.Client.Events.ShutdownEventArgs reason)
    {
        _received.TrySetException(new RabbitMQ.Client.Exceptions.AlreadyClosedException(reason));
        return Task.CompletedTask;
    }
}

/// <summary>A consumer that sums the first <paramref name="count"/> deltas of a queue's unfinished count and keeps
/// them unacknowledged, for the transaction that replaces them by their sum.</summary>
internal sealed class DeltaSum(IChannel channel, string queue, int count) : AsyncDefaultBasicConsumer(channel)
{
    private readonly TaskCompletionSource<(long Sum, ulong LastTag)> _summed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _sum;
    private int _seen;

    public Task<(long Sum, ulong LastTag)> Summed => _summed.Task;

    public override Task HandleBasicDeliverAsync(string consumerTag, ulong deliveryTag, bool redelivered, string exchange, string routingKey,
        IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        if (!long.TryParse(body.Span, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var delta))
        {
            _summed.TrySetException(new BrokerException(
                $"The unfinished count of queue '{queue}' holds an unreadable message: was {RabbitMqTransport.CounterQueue(queue)} written by something else?"));
            return Task.CompletedTask;
        }
        _sum += delta;
        if (++_seen == count)
        {
            _summed.TrySetResult((_sum, deliveryTag));
        }
        return Task.CompletedTask;
    }

    public override Task HandleChannelShutdownAsync(object channel, RabbitMQ.Client.Events.ShutdownEventArgs reason)
    {
        _summed.TrySetException(new RabbitMQ.Client.Exceptions.AlreadyClosedException(reason));
        return Task.CompletedTask;
    }
}
