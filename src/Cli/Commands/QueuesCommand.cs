using System.CommandLine;
using System.Globalization;

namespace Broker.Cli.Commands;

/// <summary><c>broker queues</c>: each queue with its items waiting, unfinished (taken and not done, waiting ones
/// included), dead letters and consumers.</summary>
internal static class QueuesCommand
{
    public static Command Create()
    {
        var command = new Command("queues", "Lists the queues: items waiting, unfinished (what a Join waits for), dead letters, consumers.");
        command.SetAction((parsed, ct) => Connected.RunAsync(parsed, async (inspector, output, token) =>
        {
            var queues = await inspector.QueuesAsync(token).ConfigureAwait(false);
            if (output.Json)
            {
                output.WriteJson(queues);
            }
            else if (queues.Count == 0)
            {
                output.Line("No queues.");
            }
            else
            {
                output.Table(["QUEUE", "WAITING", "UNFINISHED", "DEAD LETTERS", "CONSUMERS"],
                    queues.Select(q => (IReadOnlyList<string>)[q.Name, Number(q.Waiting), Number(q.Unfinished), Number(q.DeadLetters), Number(q.Consumers)]));
            }
            return 0;
        }, ct));
        return command;
    }

    /// <summary>A count, or <c>-</c> where the transport keeps none.</summary>
    private static string Number(long? count) => count?.ToString("N0", CultureInfo.InvariantCulture) ?? "-";
}
