using System.CommandLine;
using System.Globalization;

namespace Broker.Cli.Commands;

/// <summary><c>broker locks</c>: each lock, its holder (or free), its latest fencing token and its lease left.</summary>
internal static class LocksCommand
{
    public static Command Create() => Listing.Create("locks",
        "Lists the locks: holder (or free), latest fencing token, lease left.",
        (inspector, ct) => inspector.LocksAsync(ct), "No locks.",
        ["LOCK", "HOLDER", "FENCING TOKEN", "LEASE LEFT"],
        l => [l.Name, l.Holder ?? "free", l.FencingToken.ToString(CultureInfo.InvariantCulture),
            l.LeaseLeft is { } left ? $"{left.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s" : "-"],
        l => new ShownLock(l.Name, l.Holder, l.FencingToken, l.LeaseLeft?.TotalSeconds));

    private sealed record ShownLock(string Name, string? Holder, long FencingToken, double? LeaseLeftSeconds);
}
