using System.CommandLine;
using System.Text;

namespace Broker.Cli.Commands;

/// <summary><c>broker dead-letters show|requeue|purge QUEUE</c>: the items of a queue that could not be read, each
/// with its reason; put back on the queue whole, or deleted after asking.</summary>
internal static class DeadLettersCommand
{
    /// <summary>The most characters of an item's body that the text shows.</summary>
    private const int BodyShown = 120;

    public static Command Create() => new("dead-letters", "Shows the dead letters of a queue with their reasons, puts them back, or deletes them.")
    {
        Show(), Requeue(), Purge(),
    };

    private static Command Show()
    {
        var queue = QueueArgument.Create();
        var most = new Option<int>("--max") { Description = "The most dead letters to show, oldest first.", DefaultValueFactory = _ => 20 };
        most.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && int.TryParse(result.Tokens[0].Value, out var value) && value < 1)
            {
                result.AddError("--max takes a whole number, 1 or more.");
            }
        });
        var command = new Command("show", "Shows the oldest dead letters of a queue, each with its reason; they stay where they are.") { queue, most };
        command.SetAction((parsed, ct) => Connected.RunAsync(parsed, async (inspector, output, token) =>
        {
            var name = parsed.GetValue(queue)!;
            var letters = await inspector.PeekDeadLettersAsync(name, parsed.GetValue(most), token).ConfigureAwait(false);
            if (output.Json)
            {
                output.WriteJson(letters.Select(l => new ShownLetter(l.Queue, l.Reason, l.At == default ? null : l.At, Text(l.Body), l.Body)));
            }
            else if (letters.Count == 0)
            {
                output.Line($"Queue '{name}' has no dead letters.");
            }
            else
            {
                foreach (var letter in letters)
                {
                    output.Line($"{(letter.At == default ? "-" : letter.At.ToString("u", System.Globalization.CultureInfo.InvariantCulture))}  {letter.Reason}");
                    output.Line($"  {letter.Body.Length:N0} bytes: {Shown(letter.Body)}");
                }
            }
            return 0;
        }, ct));
        return command;
    }

    private static Command Requeue()
    {
        var queue = QueueArgument.Create();
        var command = new Command("requeue", "Puts the dead letters of a queue back on it, each item whole, oldest first.") { queue };
        command.SetAction((parsed, ct) => Connected.RunAsync(parsed, async (inspector, output, token) =>
        {
            var name = parsed.GetValue(queue)!;
            var requeued = await inspector.RequeueDeadLettersAsync(name, token).ConfigureAwait(false);
            output.Result(new RequeueResult(name, requeued), $"Put {requeued:N0} dead letters back on queue '{name}'.");
            return 0;
        }, ct));
        return command;
    }

    private static Command Purge()
    {
        var queue = QueueArgument.Create();
        var command = new Command("purge", "Deletes the dead letters of a queue, after asking.") { queue, CommonOptions.Yes };
        command.SetAction((parsed, ct) => Connected.RunAsync(parsed, async (inspector, output, token) =>
        {
            var name = parsed.GetValue(queue)!;
            return await Deletion.RunAsync(parsed, inspector, output, name, status => status.DeadLetters, $"dead letters of queue '{name}'",
                t => inspector.PurgeDeadLettersAsync(name, t), token).ConfigureAwait(false);
        }, ct));
        return command;
    }

    /// <summary>The body as text where it is UTF-8, else <c>null</c> (JSON has it in base64 beside).</summary>
    private static string? Text(byte[] body)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(body);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>The start of the body on one line: as text where it is UTF-8, else in hexadecimal.</summary>
    private static string Shown(byte[] body)
    {
        var text = Text(body) is { } utf8 ? utf8.ReplaceLineEndings(" ") : Convert.ToHexString(body);
        return text.Length <= BodyShown ? text : text[..BodyShown] + "…";
    }

    private sealed record ShownLetter(string Queue, string Reason, DateTimeOffset? At, string? Text, byte[] Body);

    private sealed record RequeueResult(string Queue, long Requeued);
}
