using System.CommandLine;

namespace Broker.Cli.Commands;

/// <summary>A command that lists what the broker holds: as JSON, as a table, or one line saying there is none.</summary>
internal static class Listing
{
    /// <param name="name">The command.</param>
    /// <param name="description">What <c>--help</c> says of it.</param>
    /// <param name="list">Reads the list from the broker.</param>
    /// <param name="none">The line written when the list is empty.</param>
    /// <param name="headers">The table's headers.</param>
    /// <param name="row">An element's cells, one per header.</param>
    /// <param name="json">An element as JSON writes it; the element itself by default.</param>
    public static Command Create<T>(string name, string description, Func<BrokerInspector, CancellationToken, ValueTask<IReadOnlyList<T>>> list,
        string none, IReadOnlyList<string> headers, Func<T, IReadOnlyList<string>> row, Func<T, object>? json = null)
    {
        var command = new Command(name, description);
        command.SetAction((parsed, ct) => Connected.RunAsync(parsed, async (inspector, output, token) =>
        {
            var elements = await list(inspector, token).ConfigureAwait(false);
            if (output.Json)
            {
                output.WriteJson(json is null ? elements.Cast<object>() : elements.Select(json));
            }
            else if (elements.Count == 0)
            {
                output.Line(none);
            }
            else
            {
                output.Table(headers, elements.Select(row));
            }
            return 0;
        }, ct));
        return command;
    }
}
