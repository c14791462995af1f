using System.CommandLine;

namespace Broker.Cli.Commands;

/// <summary>What a purge does, of a queue's items or of its dead letters: it finds the queue, asks before it deletes
/// (unless <c>--yes</c>), deletes, and says how many.</summary>
internal static class Deletion
{
    /// <param name="parsed">The command line.</param>
    /// <param name="inspector">The broker.</param>
    /// <param name="output">Where the question and the result go.</param>
    /// <param name="queue">The queue.</param>
    /// <param name="count">How many there are to delete, from the queue's counts.</param>
    /// <param name="what">What is deleted, for the question and the result: <c>items waiting in queue 'jobs'</c>.</param>
    /// <param name="delete">Deletes, and returns how many it deleted.</param>
    /// <param name="cancellationToken">Ends the wait for the broker.</param>
    public static async Task<int> RunAsync(ParseResult parsed, BrokerInspector inspector, Output output, string queue, Func<QueueStatus, long> count,
        string what, Func<CancellationToken, ValueTask<long>> delete, CancellationToken cancellationToken)
    {
        var status = await inspector.QueueAsync(queue, cancellationToken).ConfigureAwait(false);
        if (!parsed.GetValue(CommonOptions.Yes) && !output.Confirm($"Delete the {count(status):N0} {what}?"))
        {
            return output.Fail("Nothing was deleted: not confirmed (give --yes to delete without asking).");
        }
        var deleted = await delete(cancellationToken).ConfigureAwait(false);
        output.Result(new DeletionResult(queue, deleted), $"Deleted {deleted:N0} {what}.");
        return 0;
    }

    private sealed record DeletionResult(string Queue, long Deleted);
}
