using System.Text.Json;

namespace Broker.Cli;

/// <summary>Where a command writes: text for people or JSON for scripts on standard output, one line per failure on
/// standard error, and questions answered on standard input.</summary>
internal sealed class Output(bool json)
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public bool Json => json;

    public void Line(string text) => Console.Out.WriteLine(text);

    public void WriteJson<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, s_json));

    /// <summary>Writes what a command did: <paramref name="result"/> as JSON, or <paramref name="text"/>.</summary>
    public void Result<T>(T result, string text)
    {
        if (json)
        {
            WriteJson(result);
        }
        else
        {
            Line(text);
        }
    }

    public void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows) =>
        Console.Out.Write(Cli.Table.Format(headers, rows));

    /// <summary>Writes <paramref name="message"/> as one line on standard error; returns the exit code 1.</summary>
    public int Fail(string message)
    {
        Console.Error.WriteLine($"broker: {message.ReplaceLineEndings(" ")}");
        return 1;
    }

    /// <summary>Asks <paramref name="question"/> on standard error, which keeps standard output for the result, and
    /// reads the answer; only <c>y</c> or <c>yes</c> agrees, and an input that ends (a script without <c>--yes</c>)
    /// does not.</summary>
    public bool Confirm(string question)
    {
        Console.Error.Write($"{question} [y/N] ");
        var answer = Console.In.ReadLine()?.Trim();
        return answer is not null && (answer.Equals("y", StringComparison.OrdinalIgnoreCase) || answer.Equals("yes", StringComparison.OrdinalIgnoreCase));
    }
}
