namespace Broker.Transport.RabbitMq;

/// <summary>An item taken from a RabbitMQ queue, with the channel that must acknowledge it.</summary>
internal sealed class RabbitMqDelivery(string queue, Taken taken, QueueChannels channels)
    : Delivery(queue, taken.Body, taken.Attempt, taken.Unreadable)
{
    public int Finished;

    public Taken Taken { get; } = taken;

    public QueueChannels Channels { get; } = channels;
}
