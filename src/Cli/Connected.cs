using System.CommandLine;

namespace Broker.Cli;

/// <summary>Runs a command's work on a context connected to the broker its options name, within their timeout, and
/// turns what goes wrong into one line on standard error and exit code 1.</summary>
internal static class Connected
{
    public static async Task<int> RunAsync(ParseResult parsed, Func<BrokerInspector, Output, CancellationToken, Task<int>> work, CancellationToken cancellationToken)
    {
        var output = new Output(parsed.GetValue(CommonOptions.Json));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(parsed.GetValue(CommonOptions.Timeout)));
        try
        {
            await using var broker = BrokerContext.Connect(parsed.GetValue(CommonOptions.Broker)!);
            return await work(new BrokerInspector(broker), output, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is BrokerException or NotSupportedException)
        {
            return output.Fail(e.Message);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return output.Fail($"The broker did not answer within {parsed.GetValue(CommonOptions.Timeout)} s.");
        }
    }
}
