using System.CommandLine;

namespace Broker.Cli.Commands;

/// <summary><c>broker purge QUEUE [--yes]</c>: deletes the items waiting in a queue, after asking. Each counts as
/// done, so a Join waits only for the items taken and not done.</summary>
internal static class PurgeCommand
{
    public static Command Create()
    {
        var queue = QueueArgument.Create();
        var command = new Command("purge", "Deletes the items waiting in a queue (each counts as done for a Join), after asking.") { queue, CommonOptions.Yes };
        command.SetAction((parsed, ct) => Connected.RunAsync(parsed, async (inspector, output, token) =>
        {
            var name = parsed.GetValue(queue)!;
            return await Deletion.RunAsync(parsed, inspector, output, name, status => status.Waiting, $"items waiting in queue '{name}'",
                t => inspector.PurgeAsync(name, t), token).ConfigureAwait(false);
        }, ct));
        return command;
    }
}
