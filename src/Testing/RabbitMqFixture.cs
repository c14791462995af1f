using System.Diagnostics;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Testcontainers.RabbitMq;

namespace Broker.Testing;

using Process = System.Diagnostics.Process;

/// <summary>A RabbitMQ for tests: the server at the URL given, else the one <c>BROKER_TEST_RABBITMQ</c> names, else a
/// Testcontainers <c>rabbitmq</c> container. Each namespace is a virtual host of its own, made and deleted with
/// <c>rabbitmqctl</c>: the command <c>BROKER_TEST_RABBITMQCTL</c> gives for a named server (such as
/// <c>rabbitmqctl</c>, or <c>sudo rabbitmqctl</c>), the container's own otherwise. A virtual host left behind by a
/// test run that was killed is deleted when the next fixture starts.</summary>
/// <remarks>Locks and values need Redis beside RabbitMQ: give a test the composite,
/// <c>BrokerContext.Connect($"{await rabbitMq.NewIsolatedUrlAsync()},{await redis.NewIsolatedUrlAsync()}")</c>.</remarks>
public sealed class RabbitMqFixture : BrokerServerFixture
{
    /// <summary>The environment variable that names the server, as in
    /// <c>BROKER_TEST_RABBITMQ=amqp://127.0.0.1:5672/</c>.</summary>
    public const string ServerVariable = "BROKER_TEST_RABBITMQ";

    /// <summary>The environment variable that gives the <c>rabbitmqctl</c> command of a named server.</summary>
    public const string ControlVariable = "BROKER_TEST_RABBITMQCTL";

    private RabbitMqContainer? _container;

    /// <summary>The server <see cref="ServerVariable"/> names, or a container.</summary>
    public RabbitMqFixture()
        : this(null)
    {
    }

    private RabbitMqFixture(string? serverUrl)
        : base(serverUrl)
    {
    }

    /// <summary>A fixture on the server at <paramref name="serverUrl"/>, such as <c>amqp://127.0.0.1:5672/</c>, whatever
    /// <see cref="ServerVariable"/> says: for a test that starts its own, or for a fixture made by hand, which the
    /// test starts with <see cref="BrokerServerFixture.InitializeAsync"/> and ends with
    /// <see cref="BrokerServerFixture.DisposeAsync"/>.</summary>
    public static RabbitMqFixture For(string serverUrl)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serverUrl);
        return new(serverUrl);
    }

    /// <inheritdoc/>
    public override string Variable => ServerVariable;

    /// <inheritdoc/>
    protected override (string Name, string ExampleUrl) Server => ("RabbitMQ", "amqp://127.0.0.1:5672/");

    /// <summary>Runs <c>rabbitmqctl -q</c> with <paramref name="arguments"/> on the server: to stop and start its
    /// application in a fault test, or to look at what it holds.</summary>
    /// <returns>What it printed.</returns>
    /// <exception cref="InvalidOperationException">No <c>rabbitmqctl</c> reaches the server, or it failed.</exception>
    public async Task<string> ControlAsync(params string[] arguments)
    {
        if (_container is not null)
        {
            var result = await _container.ExecAsync(["rabbitmqctl", "-q", .. arguments]).ConfigureAwait(false);
            return result.ExitCode == 0 ? result.Stdout
                : throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', arguments)} failed with exit code {result.ExitCode}: {result.Stderr}");
        }
        var control = Environment.GetEnvironmentVariable(ControlVariable) is { Length: > 0 } command
            ? command
            : throw new InvalidOperationException(
                $"A RabbitMQ fixture makes a virtual host per namespace with rabbitmqctl: set {ControlVariable} to the command that reaches the server, such as 'rabbitmqctl' or 'sudo rabbitmqctl'.");
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["-c", $"{control} -q \"$@\"", "rabbitmqctl", .. arguments])
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(patience.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{control} {string.Join(' ', arguments)} did not end within 60 s.");
        }
        return process.ExitCode == 0 ? await output.ConfigureAwait(false)
            : throw new InvalidOperationException($"{control} {string.Join(' ', arguments)} failed with exit code {process.ExitCode}: {await errors.ConfigureAwait(false)}");
    }

    private const int ManagementPort = 15672;

    /// <inheritdoc/>
    protected override async Task<string> StartContainerAsync()
    {
        // The management plugin lists queues for BrokerInspector, which AMQP cannot.
        _container = new RabbitMqBuilder("rabbitmq:3.10-management").WithPortBinding(ManagementPort, assignRandomHostPort: true).Build();
        await _container.StartAsync().ConfigureAwait(false);
        return $"{_container.GetConnectionString()}?management=http://{_container.Hostname}:{_container.GetMappedPublicPort(ManagementPort)}";
    }

    /// <inheritdoc/>
    protected override async Task ProbeAsync(string serverUrl)
    {
        try
        {
            var factory = new ConnectionFactory { Uri = new UriBuilder(serverUrl) { Query = "" }.Uri, RequestedConnectionTimeout = TimeSpan.FromSeconds(3) };
            await using var probe = await factory.CreateConnectionAsync().ConfigureAwait(false);
        }
        catch (BrokerUnreachableException e)
        {
            throw new BrokerUnavailableException($"RabbitMQ at {BrokerUrl.Parse(serverUrl).Display} does not answer ({BrokerUrl.Redact(e.Message)}): the tests that need it cannot run.", e);
        }
        await DeleteLeftBehindAsync().ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override async Task<string> IsolateAsync(string serverUrl, CancellationToken cancellationToken)
    {
        var name = NewNamespaceName();
        await ControlAsync("add_vhost", name).ConfigureAwait(false);
        var uri = new UriBuilder(serverUrl);
        var user = uri.UserName is { Length: > 0 } given ? Uri.UnescapeDataString(given) : "guest";
        await ControlAsync("set_permissions", "-p", name, user, ".*", ".*", ".*").ConfigureAwait(false);
        uri.Path = "/" + name;
        return uri.Uri.ToString();
    }

    /// <inheritdoc/>
    protected override async Task DeleteAsync(string isolatedUrl) =>
        await ControlAsync("delete_vhost", Uri.UnescapeDataString(new Uri(isolatedUrl).AbsolutePath.Trim('/'))).ConfigureAwait(false);

    /// <inheritdoc/>
    protected override async Task StopAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Deletes the virtual hosts of test processes that have ended: a node that keeps thousands of durable
    /// queues takes long to start again.</summary>
    private async Task DeleteLeftBehindAsync()
    {
        foreach (var name in (await ControlAsync("list_vhosts", "name").ConfigureAwait(false)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (name.StartsWith(NamespacePrefix, StringComparison.Ordinal)
                && int.TryParse(name[NamespacePrefix.Length..].Split('-')[0], out var pid) && !IsRunning(pid))
            {
                await ControlAsync("delete_vhost", name).ConfigureAwait(false);
            }
        }
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
