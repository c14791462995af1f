using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Broker.Transport.RabbitMq;

/// <summary>A standing consumer that keeps up to <c>prefetch</c> messages of one queue in this process for the Gets
/// to come (<c>?prefetch=N</c>): a Get then costs no round trip while messages flow. The price is RabbitMQ's: the
/// messages it holds wait here, not for other consumers, until this process takes them or ends.</summary>
internal sealed class Prefetcher : AsyncDefaultBasicConsumer
{
    /// <summary>How long a Get waits for a push before it also asks with basic.get: when this process holds
    /// <c>prefetch</c> items unfinished, RabbitMQ pushes no more, though more may wait. Asking sooner could take a
    /// message ahead of older ones already on their way to this consumer.</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);
    private readonly TimeProvider _time;

    private readonly System.Threading.Channels.Channel<Taken> _buffer =
        System.Threading.Channels.Channel.CreateUnbounded<Taken>(new() { SingleWriter = true });
    private readonly string _queue;

    private Prefetcher(IChannel channel, string queue, TimeProvider time) : base(channel) => (_queue, _time) = (queue, time);

    public static async Task<Prefetcher> StartAsync(IChannel channel, string queue, ushort prefetch, TimeProvider time, CancellationToken cancellationToken)
    {
        var prefetcher = new Prefetcher(channel, queue, time);
        await channel.BasicQosAsync(0, prefetch, global: false, cancellationToken).ConfigureAwait(false);
        await channel.BasicConsumeAsync(queue, autoAck: false, prefetcher, cancellationToken).ConfigureAwait(false);
        return prefetcher;
    }

    /// <summary>Takes the next message, waiting up to <paramref name="timeout"/>; <c>null</c> if none came.</summary>
    public async Task<Taken?> TakeAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = new Deadline(timeout, _time);
        var ask = timeout == TimeSpan.Zero;
        while (true)
        {
            while (_buffer.Reader.TryRead(out var buffered))
            {
                // Messages of a channel that has closed went back to the queue with it.
                if (buffered.Channel.IsOpen)
                {
                    return buffered;
                }
            }
            if (_buffer.Reader.Completion.IsCompleted)
            {
                await _buffer.Reader.Completion.ConfigureAwait(false);
            }
            if (ask && await Channel.BasicGetAsync(_queue, autoAck: false, cancellationToken).ConfigureAwait(false) is { } got)
            {
                return Taken.From(Channel, got.DeliveryTag, got.Redelivered, got.BasicProperties, got.Body);
            }
            var pause = deadline.Pause(Poll);
            if (pause <= TimeSpan.Zero)
            {
                return null;
            }
            using var wait = new TimedCancellation(pause, _time, cancellationToken);
            try
            {
                await _buffer.Reader.WaitToReadAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                ask = true;
            }
        }
    }

    public override Task HandleBasicDeliverAsync(string consumerTag, ulong deliveryTag, bool redelivered, string exchange, string routingKey,
        IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        _buffer.Writer.TryWrite(Taken.From(Channel, deliveryTag, redelivered, properties, body));
        return Task.CompletedTask;
    }

    /// <summary>RabbitMQ cancelled the consumer itself: the queue was deleted.</summary>
    public override async Task HandleBasicCancelAsync(string consumerTag, CancellationToken cancellationToken = default)
    {
        await base.HandleBasicCancelAsync(consumerTag, cancellationToken).ConfigureAwait(false);
        _buffer.Writer.TryComplete(new BrokerException($"RabbitMQ ended the consumer of queue '{_queue}': the queue was deleted."));
    }

    public override Task HandleChannelShutdownAsync(object channel, RabbitMQ.Client.Events.ShutdownEventArgs reason)
    {
        _buffer.Writer.TryComplete(new AlreadyClosedException(reason));
        return Task.CompletedTask;
    }
}
