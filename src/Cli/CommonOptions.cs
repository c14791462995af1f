using System.CommandLine;

namespace Broker.Cli;

/// <summary>The options every command takes.</summary>
internal static class CommonOptions
{
    public static readonly Option<string> Broker = new("--broker")
    {
        Description = $"The broker URL, such as redis://host:6379 or amqp://host:5672/; {BrokerContext.UrlVariable} by default.",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(BrokerContext.UrlVariable) ?? "",
        Recursive = true,
    };

    public static readonly Option<bool> Json = new("--json") { Description = "Writes JSON, for scripts, instead of text.", Recursive = true };

    public static readonly Option<int> Timeout = new("--timeout")
    {
        Description = "Seconds to wait for the broker before giving up.",
        DefaultValueFactory = _ => 15,
        Recursive = true,
    };

    public static readonly Option<bool> Yes = new("--yes") { Description = "Deletes without asking first, for scripts." };

    /// <summary>Refuses a missing URL and a timeout below one second before any command runs.</summary>
    public static void Validate(RootCommand root)
    {
        Timeout.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && int.TryParse(result.Tokens[0].Value, out var seconds) && seconds < 1)
            {
                result.AddError("--timeout takes a whole number of seconds, 1 or more.");
            }
        });
        foreach (var command in root.Subcommands.SelectMany(c => c.Subcommands.Append(c)).Where(c => c.Action is not null))
        {
            command.Validators.Add(result =>
            {
                if (string.IsNullOrEmpty(result.GetValue(Broker)))
                {
                    result.AddError($"--broker (or {BrokerContext.UrlVariable}) is required.");
                }
            });
        }
    }
}
