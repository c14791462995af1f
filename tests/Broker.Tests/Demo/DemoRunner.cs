namespace Broker.Tests.Demo;

using System.Diagnostics;

/// <summary>Runs samples/Demo as a user would, built in the same configuration as these tests.</summary>
internal static class DemoRunner
{
    private static readonly string DemoDll = Path.GetFullPath(Path.Combine(
        AppContext.BaseDirectory, "..", "..", "..", "..", "..", "samples", "Demo", "bin",
        Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/'))!), "net10.0", "Demo.dll"));

    public static async Task<(int ExitCode, string[] Lines, string Errors)> RunAsync(params string[] args)
    {
        Assert.True(File.Exists(DemoDll), $"The demo is not built at {DemoDll}.");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(DemoDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment.Remove(BrokerContext.UrlVariable);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        var lines = (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return (process.ExitCode, lines, await errors);
    }
}
