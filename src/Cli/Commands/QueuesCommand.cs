using System.CommandLine;
using System.Globalization;

namespace Broker.Cli.Commands;

/// <summary><c>broker queues</c>: each queue with its items waiting, unfinished (taken and not done, waiting ones
/// included), dead letters and consumers.</summary>
internal static class QueuesCommand
{
    public static Command Create() => Listing.Create("queues",
        "Lists the queues: items waiting, unfinished (what a Join waits for), dead letters, consumers.",
        (inspector, ct) => inspector.QueuesAsync(ct), "No queues.",
        ["QUEUE", "WAITING", "UNFINISHED", "DEAD LETTERS", "CONSUMERS"],
        q => [q.Name, Number(q.Waiting), Number(q.Unfinished), Number(q.DeadLetters), Number(q.Consumers)]);

    /// <summary>A count, or <c>-</c> where the transport keeps none.</summary>
    private static string Number(long? count) => count?.ToString("N0", CultureInfo.InvariantCulture) ?? "-";
}
