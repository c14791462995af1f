namespace Broker.Tests.Servers;

using System.Diagnostics;

/// <summary>A redis-server of the test's own on a free loopback port, with its data in a folder of its own, that the
/// test can SIGKILL and start again on the same data.</summary>
public sealed class OwnRedisServer(params string[] arguments) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("broker-redis-test-").FullName;
    private Process? _server;

    public int Port { get; } = Loopback.FreePort();

    public async Task StartAsync()
    {
        var info = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true };
        foreach (var arg in new[] { "--bind", "127.0.0.1", "--port", $"{Port}", "--save", "", "--dir", _directory }.Concat(arguments))
        {
            info.ArgumentList.Add(arg);
        }
        try
        {
            _server = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("This test runs a redis-server of its own: install it (./test.sh does).", e);
        }
        _server.OutputDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        await Loopback.AwaitListeningAsync(Port, TimeSpan.FromSeconds(10), "redis-server");
    }

    /// <summary>SIGKILLs the server and waits until it is gone.</summary>
    public async Task KillAsync()
    {
        _server!.Kill();
        await _server.WaitForExitAsync();
    }

    public void Dispose()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill();
            _server.WaitForExit();
        }
        _server?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
