namespace Broker.Tests.Servers;

using System.Net;
using System.Net.Sockets;

/// <summary>Ports on 127.0.0.1 for the servers a test runs itself.</summary>
public static class Loopback
{
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits up to <paramref name="patience"/> for something to listen on <paramref name="port"/>.</summary>
    public static async Task AwaitListeningAsync(int port, TimeSpan patience, string what)
    {
        var deadline = DateTime.UtcNow + patience;
        while (!Answers(port))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what} did not start on port {port} within {patience}.");
            await Task.Delay(50);
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
}
