namespace Broker.Tests.Servers;

using System.Diagnostics;

/// <summary>A rabbitmq-server node of the test's own, on loopback ports of its own with its data in a folder of its
/// own, that the test can SIGKILL (the whole Erlang VM, as a crash) and start again on the same data. It needs the
/// rabbitmq-server package (./test.sh installs it), not the node the other tests share.</summary>
public sealed class RabbitMqNode : IAsyncDisposable
{
    private const string Server = "/usr/lib/rabbitmq/bin/rabbitmq-server";
    private readonly string _directory = Directory.CreateTempSubdirectory("broker-rabbitmq-node-").FullName;
    private readonly string _name = $"broker-test-{Environment.ProcessId}-{Guid.NewGuid():N}@localhost";
    private readonly int _distributionPort = Loopback.FreePort();
    private Process? _node;

    public int Port { get; } = Loopback.FreePort();

    /// <summary>The node's URL; guest may log in from loopback.</summary>
    public string Url => $"amqp://127.0.0.1:{Port}/";

    public async Task StartAsync()
    {
        Assert.True(File.Exists(Server), $"This test runs a RabbitMQ node of its own: install rabbitmq-server (./test.sh does); {Server} is missing.");
        File.WriteAllText(Path.Combine(_directory, "enabled_plugins"), "[].");
        // setsid makes the node's shell, its Erlang VM and their helpers one process group, killed together.
        var start = new ProcessStartInfo("setsid") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _directory };
        start.ArgumentList.Add(Server);
        foreach (var (name, value) in new Dictionary<string, string>
        {
            ["HOME"] = _directory, // its own Erlang cookie
            ["RABBITMQ_NODENAME"] = _name,
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = $"{Port}",
            ["RABBITMQ_DIST_PORT"] = $"{_distributionPort}",
            ["ERL_EPMD_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(_directory, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(_directory, "log"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(_directory, "enabled_plugins"),
        })
        {
            start.Environment[name] = value;
        }
        _node = Process.Start(start)!;
        _node.OutputDataReceived += (_, _) => { };
        _node.ErrorDataReceived += (_, _) => { };
        _node.BeginOutputReadLine();
        _node.BeginErrorReadLine();
        await Loopback.AwaitListeningAsync(Port, TimeSpan.FromSeconds(60), "rabbitmq-server");
    }

    /// <summary>SIGKILLs the node's whole process group and waits until it is gone.</summary>
    public async Task KillAsync()
    {
        if (_node is null)
        {
            return;
        }
        // setsid made the node's pid its process group's id. The "--" keeps kill from reading "-PID" as an option.
        Assert.True(_node.Id > 1, $"The node's process group {_node.Id} is not one to kill.");
        using (var kill = Process.Start("kill", ["-s", "KILL", "--", $"-{_node.Id}"]))
        {
            await kill.WaitForExitAsync();
        }
        await _node.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        _node.Dispose();
        _node = null;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
