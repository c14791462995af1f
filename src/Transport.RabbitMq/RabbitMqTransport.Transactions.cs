using RabbitMQ.Client;

namespace Broker.Transport.RabbitMq;

// Transactions: the steps of one commit, one transaction at a time per channel.
internal sealed partial class RabbitMqTransport
{
    /// <summary>Runs <paramref name="steps"/> and commits them, one transaction at a time on the channel. Once begun,
    /// the steps are not cancelled: steps left uncommitted would join the channel's next transaction.</summary>
    private static async Task InTransactionAsync(QueueChannels channels, IChannel channel, Func<Task> steps, CancellationToken cancellationToken)
    {
        await channels.Transaction.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await steps().ConfigureAwait(false);
            await channel.TxCommitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch when (channel.IsOpen)
        {
            await channel.TxRollbackAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        finally
        {
            channels.Transaction.Release();
        }
    }
}
