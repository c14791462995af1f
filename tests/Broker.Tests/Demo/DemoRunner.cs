namespace Broker.Tests.Demo;

using System.Diagnostics;

/// <summary>Runs the repository's programs (samples/Demo, src/WorkerHost, src/Cli) as a user would, built in the same
/// configuration as these tests.</summary>
internal static class DemoRunner
{
    public static readonly string DemoDll = Built("samples/Demo", "Demo.dll");

    public static readonly string WorkerHostDll = Built("src/WorkerHost", "Broker.WorkerHost.dll");

    public static readonly string CliDll = Built("src/Cli", "Broker.Cli.dll");

    public static readonly string HostedServiceDll = Built("samples/HostedService", "HostedService.dll");

    /// <summary>Sends <paramref name="signal"/> (TERM, INT...) to <paramref name="pid"/> as an operator does; returns
    /// kill's exit code.</summary>
    public static int Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString()])!;
        kill.WaitForExit();
        return kill.ExitCode;
    }

    public static Task<(int ExitCode, string[] Lines, string Errors)> RunAsync(params string[] args) => RunProgramAsync(DemoDll, args);

    /// <summary>Runs <paramref name="dll"/> to its end, within two minutes, its input ended at once.</summary>
    public static Task<(int ExitCode, string[] Lines, string Errors)> RunProgramAsync(string dll, params string[] args) =>
        RunWithInputAsync(dll, "", args);

    /// <summary>Runs <paramref name="dll"/> to its end, within two minutes, with <paramref name="input"/> as what a
    /// user types.</summary>
    public static async Task<(int ExitCode, string[] Lines, string Errors)> RunWithInputAsync(string dll, string input, params string[] args)
    {
        using var process = Start(dll, args);
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        var lines = (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return (process.ExitCode, lines, await errors);
    }

    /// <summary>Starts <paramref name="dll"/> with its output redirected; the caller reads or drains it.</summary>
    public static Process Start(string dll, params string[] args)
    {
        Assert.True(File.Exists(dll), $"{dll} is not built.");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment.Remove(BrokerContext.UrlVariable);
        return Process.Start(info)!;
    }

    private static string Built(string project, string file) => Path.GetFullPath(Path.Combine(
        AppContext.BaseDirectory, "..", "..", "..", "..", "..", project, "bin",
        Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/'))!), "net10.0", file));
}
