namespace Broker.Tests.Cli;

using System.Text.Json;
using Broker;
using Broker.Tests.Demo;

/// <summary>The <c>broker</c> tool run as an operator runs it, a program of its own, against a namespace of its own
/// on each transport.</summary>
public abstract class CliTests : IAsyncLifetime
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(200);

    /// <summary>The tests' own side of the broker.</summary>
    protected BrokerContext Broker { get; private set; } = null!;

    /// <summary>The URL the tool is given: the same namespace as <see cref="Broker"/>.</summary>
    private string Url { get; set; } = "";

    /// <summary>A URL of this transport where no server answers.</summary>
    protected abstract string UnreachableUrl { get; }

    protected abstract Task<BrokerContext> ConnectAsync();

    public async Task InitializeAsync()
    {
        Broker = await ConnectAsync();
        Url = await Broker.ShareAsync(CancellationToken.None);
    }

    public virtual async Task DisposeAsync() => await Broker.DisposeAsync();

    [Fact]
    public async Task Queues_shows_each_queue_with_its_counts_as_text_and_as_JSON()
    {
        var jobs = new JoinableQueue<int>(name: $"jobs-{Guid.NewGuid():N}", broker: Broker);
        foreach (var i in new[] { 1, 2, 3 })
        {
            await jobs.PutAsync(i);
        }
        Assert.Equal(1, await jobs.GetAsync(Short * 50));
        await jobs.DeadLetters.PutAsync(new DeadLetter(jobs.Name, "a test", [1], DateTimeOffset.UnixEpoch));

        var (exitCode, lines, errors) = await RunAsync("queues");

        Assert.True(exitCode == 0, errors);
        Assert.Equal(["QUEUE", "WAITING", "UNFINISHED", "DEAD", "LETTERS", "CONSUMERS"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal([jobs.Name, "2", "3", "1"], Assert.Single(lines, l => l.StartsWith(jobs.Name, StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[..4]);

        (exitCode, lines, errors) = await RunAsync("queues", "--json");

        Assert.True(exitCode == 0, errors);
        var shown = Assert.Single(JsonDocument.Parse(string.Join('\n', lines)).RootElement.EnumerateArray(), q => q.GetProperty("name").GetString() == jobs.Name);
        Assert.Equal((2, 3, 1), (shown.GetProperty("waiting").GetInt64(), shown.GetProperty("unfinished").GetInt64(), shown.GetProperty("deadLetters").GetInt64()));
    }

    [Fact]
    public async Task Dead_letters_are_shown_with_their_reasons_put_back_whole_and_purged()
    {
        var numbers = new JoinableQueue<int>(broker: Broker);
        await numbers.PutAsync(41);
        await numbers.PutAsync(42);
        var texts = new Queue<string>(name: numbers.Name, broker: Broker);
        await Assert.ThrowsAsync<QueueEmptyException>(() => texts.GetAsync(Short).AsTask());

        var (exitCode, lines, errors) = await RunAsync("dead-letters", "show", numbers.Name);
        Assert.True(exitCode == 0, errors);
        Assert.Equal(2, lines.Count(l => l.Contains("String", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.EndsWith("2 bytes: 42", StringComparison.Ordinal));

        (exitCode, lines, errors) = await RunAsync("dead-letters", "show", numbers.Name, "--json", "--max", "1");
        Assert.True(exitCode == 0, errors);
        var letter = Assert.Single(JsonDocument.Parse(string.Join('\n', lines)).RootElement.EnumerateArray());
        Assert.Equal(("41", numbers.Name), (letter.GetProperty("text").GetString(), letter.GetProperty("queue").GetString()));

        (exitCode, lines, errors) = await RunAsync("dead-letters", "requeue", numbers.Name);
        Assert.True(exitCode == 0, errors);
        Assert.Equal($"Put 2 dead letters back on queue '{numbers.Name}'.", Assert.Single(lines));
        Assert.Equal(41, await numbers.GetAsync(Short * 50));
        Assert.Equal(42, await numbers.GetAsync(Short * 50));

        await numbers.DeadLetters.PutAsync(new DeadLetter(numbers.Name, "a test", [1], DateTimeOffset.UnixEpoch));
        (exitCode, lines, errors) = await RunAsync("dead-letters", "purge", numbers.Name, "--yes");
        Assert.True(exitCode == 0, errors);
        Assert.Equal($"Deleted 1 dead letters of queue '{numbers.Name}'.", Assert.Single(lines));
        Assert.Equal(0, await numbers.DeadLetters.CountAsync());
    }

    [Fact]
    public async Task Purge_asks_first_and_deletes_only_what_it_is_told_to()
    {
        var jobs = new JoinableQueue<int>(broker: Broker);
        foreach (var i in new[] { 1, 2, 3 })
        {
            await jobs.PutAsync(i);
        }

        var (exitCode, _, errors) = await DemoRunner.RunWithInputAsync(DemoRunner.CliDll, "n\n", "purge", jobs.Name, "--broker", Url);
        Assert.Equal(1, exitCode);
        Assert.Contains($"Delete the 3 items waiting in queue '{jobs.Name}'? [y/N]", errors, StringComparison.Ordinal);
        Assert.Contains("Nothing was deleted", errors, StringComparison.Ordinal);
        Assert.Equal(3, await jobs.CountAsync());

        (exitCode, var lines, errors) = await DemoRunner.RunWithInputAsync(DemoRunner.CliDll, "y\n", "purge", jobs.Name, "--broker", Url, "--json");
        Assert.True(exitCode == 0, errors);
        Assert.Equal(3, JsonDocument.Parse(string.Join('\n', lines)).RootElement.GetProperty("deleted").GetInt64());
        Assert.Equal(0, await jobs.CountAsync());
        Assert.True(await jobs.JoinAsync(Short * 50), "purged items count as done");
    }

    [Fact]
    public async Task A_missing_queue_or_an_unreachable_broker_is_one_line_and_exit_code_1()
    {
        var missing = $"missing-{Guid.NewGuid():N}";
        string[][] commands = [["purge", missing, "--yes"], ["dead-letters", "show", missing], ["dead-letters", "requeue", missing]];
        foreach (var args in commands)
        {
            var (exitCode, lines, errors) = await RunAsync(args);
            Assert.Equal(1, exitCode);
            Assert.Empty(lines);
            Assert.Contains($"Queue '{missing}' does not exist", Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        }

        foreach (var url in new[] { UnreachableUrl, "nowhere://host" })
        {
            var (code, output, refused) = await DemoRunner.RunProgramAsync(DemoRunner.CliDll, "queues", "--broker", url, "--timeout", "2");
            Assert.Equal(1, code);
            Assert.Empty(output);
            Assert.StartsWith("broker: ", Assert.Single(refused.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Locks_values_and_worker_hosts_are_shown_where_the_transport_keeps_them()
    {
        if (!KeepsLocksAndValues)
        {
            foreach (var command in new[] { "locks", "values", "workers" })
            {
                var (code, output, refused) = await RunAsync(command);
                Assert.Equal(1, code);
                Assert.Empty(output);
                Assert.Contains("No transport in", Assert.Single(refused.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
            }
            return;
        }
        var held = new Lock($"held-{Guid.NewGuid():N}", Broker);
        await using var holding = await held.EnterScopeAsync();
        var count = new Value<int>(42, $"count-{Guid.NewGuid():N}", Broker);
        await count.GetAsync();
        var poolName = $"cli-{Guid.NewGuid():N}";
        await using var pool = await Pool.StartAsync(1, name: poolName, broker: Broker);

        var (exitCode, lines, errors) = await RunAsync("locks");
        Assert.True(exitCode == 0, errors);
        var shownLock = Assert.Single(lines, l => l.StartsWith(held.Name, StringComparison.Ordinal)).Split("  ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.NotEqual("free", shownLock[1]);
        Assert.Equal(holding.FencingToken.ToString(System.Globalization.CultureInfo.InvariantCulture), shownLock[2]);

        (exitCode, lines, errors) = await RunAsync("values", "--json");
        Assert.True(exitCode == 0, errors);
        var shownValue = Assert.Single(JsonDocument.Parse(string.Join('\n', lines)).RootElement.EnumerateArray(), v => v.GetProperty("name").GetString() == count.Name);
        Assert.Equal(42, shownValue.GetProperty("value").GetInt64());

        (exitCode, lines, errors) = await RunAsync("workers", "--json");
        Assert.True(exitCode == 0, errors);
        var host = Assert.Single(JsonDocument.Parse(string.Join('\n', lines)).RootElement.EnumerateArray(), h => h.GetProperty("pool").GetString() == poolName);
        Assert.Equal((Environment.ProcessId, true), (host.GetProperty("pid").GetInt32(), host.GetProperty("alive").GetBoolean()));

        (exitCode, lines, errors) = await RunAsync("workers");
        Assert.True(exitCode == 0, errors);
        Assert.EndsWith("alive", Assert.Single(lines, l => l.StartsWith(poolName, StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    /// <summary>Whether the transport keeps locks and values (and so heartbeats), which RabbitMQ alone does not.</summary>
    protected virtual bool KeepsLocksAndValues => true;

    private Task<(int ExitCode, string[] Lines, string Errors)> RunAsync(params string[] args) =>
        DemoRunner.RunProgramAsync(DemoRunner.CliDll, [.. args, "--broker", Url]);
}

[Collection(ProcessCollection.Name)]
public sealed class LocalCliTests : CliTests
{
    protected override string UnreachableUrl => $"local://{Path.Combine(Path.GetTempPath(), $"broker-none-{Guid.NewGuid():N}", "broker.sock")}";

    protected override Task<BrokerContext> ConnectAsync() => Task.FromResult(BrokerContext.Connect(BrokerContext.LocalUrl));
}

[Collection(RedisProcessCollection.Name)]
public sealed class RedisCliTests(RedisFixture redis) : CliTests
{
    protected override string UnreachableUrl => "redis://127.0.0.1:1";

    protected override Task<BrokerContext> ConnectAsync() => redis.ConnectAsync();
}

[Collection(CompositeProcessCollection.Name)]
public sealed class RabbitMqCliTests(RabbitMqFixture rabbitMq) : CliTests
{
    protected override string UnreachableUrl => "amqp://127.0.0.1:1/";

    protected override bool KeepsLocksAndValues => false;

    protected override Task<BrokerContext> ConnectAsync() => rabbitMq.ConnectAsync();
}
