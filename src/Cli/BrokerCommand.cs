using System.CommandLine;
using Broker.Cli.Commands;

namespace Broker.Cli;

/// <summary><c>broker [--broker URL] [--json] COMMAND</c>: what an operator asks of a Broker deployment.</summary>
internal static class BrokerCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Shows and tends a Broker deployment's queues, dead letters, locks, values and worker hosts, on any broker.")
        {
            CommonOptions.Broker, CommonOptions.Json, CommonOptions.Timeout,
            QueuesCommand.Create(),
            DeadLettersCommand.Create(),
            PurgeCommand.Create(),
            LocksCommand.Create(),
            ValuesCommand.Create(),
            WorkersCommand.Create(),
        };
        CommonOptions.Validate(root);
        return await root.Parse(args).InvokeAsync();
    }
}
