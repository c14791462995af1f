namespace Broker.Transport.RabbitMq;

/// <summary>An item taken from a RabbitMQ queue, with the channel that must acknowledge it.</summary>
internal sealed class RabbitMqDelivery(RabbitMqTransport transport, string queue, Taken taken, QueueChannels channels)
    : UnfinishedDelivery(queue, taken.Body, taken.Attempt, taken.Unreadable)
{
    public int Finished;

    public Taken Taken { get; } = taken;

    public QueueChannels Channels { get; } = channels;

    public override ValueTask DoneAsync(CancellationToken cancellationToken) =>
        new(transport.FinishAsync(this, acknowledgeItem: true, cancellationToken));
}
