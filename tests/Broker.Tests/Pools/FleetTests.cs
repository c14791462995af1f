namespace Broker.Tests.Pools;

using System.Diagnostics;
using Broker;
using Broker.Tests.Demo;
using Process = System.Diagnostics.Process;

/// <summary>Worker hosts as separate programs serving one named pool through a broker, and clients that use only
/// them: the user's program in worker mode (Demo worker) beside the Broker.WorkerHost program given the user's assembly.</summary>
public abstract class FleetTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly List<Process> _hosts = [];
    private readonly string _pool = $"fleet-{Guid.NewGuid():N}";
    private BrokerContext _broker = null!;

    /// <summary>The broker the hosts and the client share.</summary>
    protected abstract string Url { get; }

    public Task InitializeAsync()
    {
        _broker = BrokerContext.Connect(Url);
        return Task.CompletedTask;
    }

    /// <summary>Stops the hosts as an operator does, with SIGTERM, so that each reaps its workers and leaves nothing
    /// behind; a host that has not ended within the patience is killed with its workers.</summary>
    public async Task DisposeAsync()
    {
        foreach (var host in _hosts.Where(h => !h.HasExited))
        {
            DemoRunner.Signal(host.Id, "TERM");
        }
        foreach (var host in _hosts)
        {
            try
            {
                await host.WaitForExitAsync().WaitAsync(Patience);
            }
            catch (TimeoutException)
            {
                host.Kill(entireProcessTree: true);
                await host.WaitForExitAsync();
            }
        }
        await _broker.DisposeAsync();
    }

    [Fact]
    public async Task Two_worker_hosts_serve_a_client_that_has_no_workers_of_its_own()
    {
        StartHost(DemoRunner.DemoDll, "worker", "--broker", Url, "--pool", _pool, "--processes", "1");
        StartHost(DemoRunner.WorkerHostDll, "--broker", Url, "--pool", _pool, "--processes", "1", "--assembly", DemoRunner.DemoDll);

        var (exitCode, lines, errors) = await DemoRunner.RunAsync("pool-map", "--broker", Url, "--pool", _pool, "--processes", "0", "--n", "10");
        Assert.True(exitCode == 0, errors);
        Assert.Equal("[1, 4, 9, 16, 25, 36, 49, 64, 81, 100]", lines[^1]);

        // Python's default chunksize counts the pool's workers; a client without any counts one.
        (exitCode, lines, errors) = await DemoRunner.RunAsync("pool-map", "--broker", Url, "--pool", _pool, "--processes", "0", "--n", "10", "--chunksize", "0");
        Assert.True(exitCode == 0, errors);
        Assert.Equal("[1, 4, 9, 16, 25, 36, 49, 64, 81, 100]", lines[^1]);

        (exitCode, lines, errors) = await DemoRunner.RunAsync("pool-apply", "--broker", Url, "--pool", _pool, "--processes", "0");
        Assert.True(exitCode == 0, errors);
        Assert.Equal("pool-apply ok", lines[^1]);
    }

    [Fact]
    public async Task A_worker_host_stopped_with_SIGTERM_gives_back_its_task_in_flight_to_another_host()
    {
        var testAssembly = typeof(Tasks).Assembly.Location;
        var first = StartHost(DemoRunner.WorkerHostDll, "--broker", Url, "--pool", _pool, "--processes", "1", "--assembly", testAssembly);
        await using var client = new Pool(0, name: _pool, broker: _broker);
        var attempts = new Value<int>(0, broker: _broker);
        var firstPid = new Value<int>(0, broker: _broker);
        var result = client.ApplyAsync<string>(Tasks.SurviveOneKill, [attempts, firstPid]);
        await Eventually.TrueAsync(async () => await firstPid.GetAsync() != 0, "the first host to start the task", Patience);

        StartHost(DemoRunner.WorkerHostDll, "--broker", Url, "--pool", _pool, "--processes", "1", "--assembly", testAssembly);
        Assert.Equal(0, DemoRunner.Signal(first.Id, "TERM"));

        Assert.Equal("done on a second worker", result.Get(Patience));
        Assert.Equal(2, await attempts.GetAsync());
        await first.WaitForExitAsync().WaitAsync(Patience);
        Assert.Equal(0, first.ExitCode);
    }

    [Fact]
    public async Task A_client_without_workers_streams_an_Imap_through_a_worker_host()
    {
        StartHost(DemoRunner.WorkerHostDll, "--broker", Url, "--pool", _pool, "--processes", "2", "--assembly", typeof(Tasks).Assembly.Location);
        await using var client = new Pool(0, name: _pool, broker: _broker);
        Assert.Equal([1, 4, 9, 16, 25], client.Imap(Tasks.Square, Enumerable.Range(1, 5)).ToList());
    }

    [Fact]
    public async Task A_worker_host_shows_alive_shows_gone_while_stopped_and_leaves_the_list_when_it_ends()
    {
        var host = StartHost(DemoRunner.WorkerHostDll, "--broker", Url, "--pool", _pool, "--processes", "1", "--assembly", DemoRunner.DemoDll);
        var inspector = new BrokerInspector(_broker);
        async Task<PoolHostStatus?> ShownAsync() => (await inspector.WorkersAsync()).SingleOrDefault(h => h.Pool == _pool && h.Pid == host.Id);
        await Eventually.TrueAsync(async () => await ShownAsync() is { Alive: true, Processes: 1 }, "the host's heartbeat with its worker", Patience);

        Assert.Equal(0, DemoRunner.Signal(host.Id, "STOP"));
        try
        {
            await Eventually.TrueAsync(async () => await ShownAsync() is { Alive: false }, "the stopped host to show gone", Patience);
            var (exitCode, lines, errors) = await DemoRunner.RunProgramAsync(DemoRunner.CliDll, "workers", "--broker", Url);
            Assert.True(exitCode == 0, errors);
            Assert.EndsWith("gone", Assert.Single(lines, l => l.StartsWith(_pool, StringComparison.Ordinal)), StringComparison.Ordinal);
        }
        finally
        {
            DemoRunner.Signal(host.Id, "CONT");
        }
        await Eventually.TrueAsync(async () => await ShownAsync() is { Alive: true }, "the continued host to beat again", Patience);

        Assert.Equal(0, DemoRunner.Signal(host.Id, "TERM"));
        await host.WaitForExitAsync().WaitAsync(Patience);
        Assert.Null(await ShownAsync());
    }

    private Process StartHost(string dll, params string[] args)
    {
        var host = DemoRunner.Start(dll, args);
        host.OutputDataReceived += (_, _) => { };
        host.ErrorDataReceived += (_, _) => { };
        host.BeginOutputReadLine();
        host.BeginErrorReadLine();
        _hosts.Add(host);
        return host;
    }
}

[Collection(RedisProcessCollection.Name)]
public sealed class RedisFleetTests(RedisFixture redis) : FleetTests
{
    protected override string Url => redis.ShortLeaseUrl();
}

/// <summary>The task queue on RabbitMQ; Redis keeps the values the tests watch the tasks with.</summary>
[Collection(CompositeProcessCollection.Name)]
public sealed class RabbitMqFleetTests(RabbitMqFixture rabbitMq, RedisFixture redis) : FleetTests
{
    protected override string Url => $"{rabbitMq.Url},{redis.ShortLeaseUrl()}";
}
