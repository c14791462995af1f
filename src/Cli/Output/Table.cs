using System.Text;

namespace Broker.Cli;

/// <summary>Rows as columns padded to their widest cell, headers first, for a terminal: the first column (a name) to
/// the left, the others (counts) to the right.</summary>
internal static class Table
{
    private const string Gap = "  ";

    public static string Format(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.Prepend(headers).ToList();
        var widths = headers.Select((_, column) => all.Max(row => row[column].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var row in all)
        {
            text.AppendJoin(Gap, row.Select((cell, column) => column == 0 ? cell.PadRight(widths[column]) : cell.PadLeft(widths[column]))).AppendLine();
        }
        return text.ToString();
    }
}
