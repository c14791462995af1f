namespace Broker.Tests.Servers;

using System.Diagnostics;
using DotNet.Testcontainers.Builders;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Testcontainers.RabbitMq;

/// <summary>The RabbitMQ the tests use: the one named by <c>BROKER_TEST_RABBITMQ</c> (./test.sh starts one), else a
/// throwaway Testcontainers container where a Docker engine runs. With neither, or when the server does not answer,
/// every RabbitMQ test fails with the reason: it never passes silently.</summary>
/// <remarks>The tests never delete their queues, and a node that keeps thousands of durable queues takes seconds to
/// start again. Where <c>rabbitmqctl</c> reaches the server (<see cref="ControlVariable"/>), the tests use a virtual
/// host of their own, deleted with its queues when they end; one left by a test run that was killed goes at the
/// next run's start.</remarks>
public sealed class RabbitMqServer : IAsyncLifetime
{
    public const string Variable = "BROKER_TEST_RABBITMQ";

    /// <summary>The rabbitmqctl command of the server under test; ./test.sh sets it for the server it starts.</summary>
    public const string ControlVariable = "BROKER_TEST_RABBITMQCTL";

    private const string VirtualHostPrefix = "broker-test-";
    private static int s_lastVirtualHost;
    private RabbitMqContainer? _container;
    private string? _virtualHost;

    /// <summary>The server's URL, credentials included.</summary>
    public string Url { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } url)
        {
            Url = Environment.GetEnvironmentVariable(ControlVariable) is { Length: > 0 } ? await OwnVirtualHostAsync(url) : url;
        }
        else
        {
            try
            {
                _container = new RabbitMqBuilder("rabbitmq:3.10").Build();
                await _container.StartAsync();
                Url = _container.GetConnectionString();
            }
            catch (DockerUnavailableException)
            {
                throw new InvalidOperationException(
                    $"No RabbitMQ for the tests: run ./test.sh, which starts one, or set {Variable}=amqp://guest:guest@127.0.0.1:5672/.");
            }
        }
        try
        {
            await using var probe = await new ConnectionFactory { Uri = new Uri(Url), RequestedConnectionTimeout = TimeSpan.FromSeconds(3) }.CreateConnectionAsync();
        }
        catch (BrokerUnreachableException e)
        {
            throw new InvalidOperationException($"RabbitMQ at {BrokerUrl.Redact(Url)} does not answer ({e.Message}): the RabbitMQ tests cannot run.", e);
        }
    }

    public async Task DisposeAsync()
    {
        if (_virtualHost is not null)
        {
            await ControlAsync("delete_vhost", _virtualHost);
        }
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
    }

    /// <summary>Runs <c>rabbitmqctl -q</c> with <paramref name="arguments"/> on the server under test.</summary>
    /// <returns>What it printed.</returns>
    public static async Task<string> ControlAsync(params string[] arguments)
    {
        var control = Environment.GetEnvironmentVariable(ControlVariable) is { Length: > 0 } command
            ? command
            : throw new InvalidOperationException($"This needs rabbitmqctl for the server under test: set {ControlVariable} (./test.sh does).");
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"{control} -q \"$@\"");
        start.ArgumentList.Add("rabbitmqctl");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(process.ExitCode == 0, $"{control} {string.Join(' ', arguments)} failed with exit code {process.ExitCode}");
        return await output;
    }

    /// <summary>Makes a virtual host for this test process's queues, after deleting those of test processes that
    /// have ended, and returns <paramref name="url"/> pointing at it.</summary>
    private async Task<string> OwnVirtualHostAsync(string url)
    {
        foreach (var stale in (await ControlAsync("list_vhosts", "name")).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (stale.StartsWith(VirtualHostPrefix, StringComparison.Ordinal) && int.TryParse(stale[VirtualHostPrefix.Length..].Split('-')[0], out var pid)
                && !IsRunning(pid))
            {
                await ControlAsync("delete_vhost", stale);
            }
        }
        _virtualHost = $"{VirtualHostPrefix}{Environment.ProcessId}-{Interlocked.Increment(ref s_lastVirtualHost)}";
        await ControlAsync("add_vhost", _virtualHost);
        var uri = new UriBuilder(url);
        var user = uri.UserName is { Length: > 0 } name ? Uri.UnescapeDataString(name) : "guest";
        await ControlAsync("set_permissions", "-p", _virtualHost, user, ".*", ".*", ".*");
        uri.Path = "/" + _virtualHost;
        return uri.Uri.ToString();
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
