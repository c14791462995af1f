namespace Broker.Tests.Servers;

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Broker;
using Broker.Tests.Processes;
using Process = System.Diagnostics.Process;

/// <summary>A redis-server of the test's own, SIGKILLed and started again in the middle of a stream of puts and
/// gets. With <c>appendfsync always</c> every acknowledged write survives, so every Put that returned must be
/// delivered. Gets whose answer was lost in the crash come back when their lease ends.</summary>
[Collection(RedisProcessCollection.Name)]
public sealed class RedisRestartTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("broker-redis-test-").FullName;
    private readonly int _port = FreePort();
    private Process? _server;

    [Fact]
    public async Task No_put_that_returned_is_lost_when_Redis_is_killed_and_restarted()
    {
        StartServer();
        await using var broker = BrokerContext.Connect($"redis://127.0.0.1:{_port}?lease=2s&poll=100ms");
        await FaultStream.LosesNothingAsync(broker, async () =>
        {
            _server!.Kill();
            await _server.WaitForExitAsync();
            await Task.Delay(500);
            StartServer();
        });
    }

    public void Dispose()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill();
            _server.WaitForExit();
        }
        Directory.Delete(_directory, recursive: true);
    }

    private void StartServer()
    {
        var info = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true };
        foreach (var arg in new[] { "--bind", "127.0.0.1", "--port", $"{_port}", "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", _directory })
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
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!Answers(_port))
        {
            Assert.True(DateTime.UtcNow < deadline, $"redis-server did not start on port {_port}.");
            Thread.Yield();
        }
    }

    private static bool Answers(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
