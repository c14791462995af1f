using System.CommandLine;

namespace Broker.Cli.Commands;

/// <summary>The queue a command works on, by name.</summary>
internal static class QueueArgument
{
    public static Argument<string> Create() => new("queue") { Description = "The queue's name." };
}
