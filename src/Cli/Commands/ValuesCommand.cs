using System.CommandLine;
using Broker.Transport;

namespace Broker.Cli.Commands;

/// <summary><c>broker values</c>: each value and array element (<c>name[index]</c>), the synchronization primitives'
/// own counts included, as it is now.</summary>
internal static class ValuesCommand
{
    public static Command Create() => Listing.Create("values",
        "Lists the values and array elements, the synchronization primitives' own included, as they are now.",
        (inspector, ct) => inspector.ValuesAsync(ct), "No values.",
        ["VALUE", "NOW"],
        v => [v.Name, v.Value.ToString()],
        v => new ShownValue(v.Name, v.Value.Kind == ScalarKind.Integer ? v.Value.Integer : v.Value.Float));

    /// <summary>A number as JSON writes it: an integer without a fraction, a float with one where it has one.</summary>
    private sealed record ShownValue(string Name, object Value);
}
