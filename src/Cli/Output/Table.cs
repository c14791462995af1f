using System.Globalization;
using System.Text;

namespace Broker.Cli;

/// <summary>Rows as columns padded to their widest cell, headers first, for a terminal: a column of counts or times
/// to the right, any other to the left.</summary>
internal static class Table
{
    private const string Gap = "  ";

    public static string Format(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var body = rows.ToList();
        var all = body.Prepend(headers).ToList();
        var widths = headers.Select((_, column) => all.Max(row => row[column].Length)).ToArray();
        var right = headers.Select((_, column) => body.Count > 0 && body.All(row => IsNumber(row[column]))).ToArray();
        var text = new StringBuilder();
        foreach (var row in all)
        {
            var line = string.Join(Gap, row.Select((cell, column) => right[column] ? cell.PadLeft(widths[column]) : cell.PadRight(widths[column])));
            text.AppendLine(line.TrimEnd());
        }
        return text.ToString();
    }

    /// <summary>A count, a number, a time in seconds, or <c>-</c> for none.</summary>
    private static bool IsNumber(string cell) =>
        cell == "-" || double.TryParse(cell.EndsWith(" s", StringComparison.Ordinal) ? cell[..^2] : cell, NumberStyles.Number, CultureInfo.InvariantCulture, out _);
}
