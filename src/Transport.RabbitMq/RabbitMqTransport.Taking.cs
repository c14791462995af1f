using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Broker.Transport.RabbitMq;

// Taking: basic.get, and a consumer of one delivery while the queue is empty.
internal sealed partial class RabbitMqTransport
{
    /// <summary>Takes one message: basic.get, and when the queue is empty a consumer of one delivery until
    /// <paramref name="timeout"/>. A message that arrived by the time the wait ended is returned, so that its delivery
    /// count stays true; one that arrives after that, sent before RabbitMQ saw the cancel, goes to
    /// <paramref name="giveBackLate"/>.</summary>
    private async Task<Taken?> TakeOneAsync(IChannel channel, string queue, TimeSpan timeout, Func<Taken, Task> giveBackLate, CancellationToken cancellationToken)
    {
        var got = await channel.BasicGetAsync(queue, autoAck: false, cancellationToken).ConfigureAwait(false);
        if (got is not null)
        {
            return Taken.From(channel, got.DeliveryTag, got.Redelivered, got.BasicProperties, got.Body);
        }
        if (timeout == TimeSpan.Zero)
        {
            return null;
        }
        var consumer = new SingleDelivery(channel);
        var tag = await channel.BasicConsumeAsync(queue, autoAck: false, consumer, cancellationToken).ConfigureAwait(false);
        try
        {
            await consumer.Received.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
        }
        finally
        {
            // Waiting for cancel-ok: the client forgets a consumer cancelled without waiting at once, so a message that
            // RabbitMQ sent before it saw the cancel (a wait that timed out or was cancelled as it came) would reach no
            // consumer and stay taken on this channel. Until cancel-ok, such a message still reaches this one.
            if (channel.IsOpen)
            {
                await channel.BasicCancelAsync(tag, noWait: false, CancellationToken.None).ConfigureAwait(false);
            }
        }
        var received = consumer.Received;
        if (received.IsCompletedSuccessfully)
        {
            return received.Result;
        }
        _ = received.ContinueWith(late => giveBackLate(late.Result), CancellationToken.None,
            TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default).Unwrap();
        cancellationToken.ThrowIfCancellationRequested();
        if (received.IsCanceled)
        {
            throw new BrokerException($"RabbitMQ ended the wait on queue '{queue}': the queue was deleted.");
        }
        return received.IsFaulted ? await received.ConfigureAwait(false) : null;
    }

    private async Task<QueueDeclareOk> PassiveDeclareAsync(IChannel admin, string queue, CancellationToken cancellationToken)
    {
        try
        {
            return await admin.QueueDeclarePassiveAsync(queue, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationInterruptedException e) when (ReplyCode(e) == 404)
        {
            throw new QueueNotFoundException(queue, $"Queue '{queue}' does not exist on RabbitMQ at {_url.Display}.", e);
        }
    }
}
