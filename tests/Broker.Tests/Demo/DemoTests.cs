namespace Broker.Tests.Demo;


/// <summary>Each demo subcommand, run as a program on the embedded broker, ends with the line the README promises.</summary>
[Collection(ProcessCollection.Name)]
public sealed class DemoTests
{
    /// <summary>Each subcommand with small arguments, and the last line it prints on any broker.</summary>
    public static TheoryData<string, string[]> EverySubcommand => new()
    {
        { "all 12 items done", ["producer-consumer", "--producers", "2", "--items", "6", "--consumers", "2"] },
        { "sold 2 of 2, remaining 0", ["tickets", "--buyers", "4", "--tickets", "2"] },
        { "final value 100 expected 100", ["counter", "--processes", "4", "--increments", "25"] },
        { "lifecycle ok", ["lifecycle"] },
        { "pipe ok", ["pipe"] },
        { "barrier ok: 3 parties met 2 times", ["barrier", "--parties", "3", "--rounds", "2"] },
        { "[1, 4, 9, 16, 25, 36, 49, 64, 81, 100]", ["pool-map"] },
        { "pool-apply ok", ["pool-apply"] },
        { "manager-pool ok: hello counted 6 times", ["manager-pool", "--messages", "3"] },
    };

    [Fact]
    public async Task Producer_consumer_consumes_every_item_once_then_joins()
    {
        var (exitCode, lines, errors) = await DemoRunner.RunAsync("producer-consumer", "--producers", "2", "--items", "8", "--consumers", "2");
        Assert.True(exitCode == 0, errors);
        Assert.Equal("all 16 items done", lines[^1]);
        var produced = lines.Where(l => l.StartsWith("produced ")).Select(l => l["produced ".Length..]).Order().ToList();
        var consumed = lines.Where(l => l.StartsWith("consumed ")).Select(l => l.Split(' ')[1]).Order().ToList();
        Assert.Equal(16, produced.Count);
        Assert.Equal(produced, consumed);
        Assert.Contains("producer2-8", produced);
    }

    [Fact]
    public async Task Pipe_receives_the_childs_message_then_the_end_of_the_pipe()
    {
        var (exitCode, lines, errors) = await DemoRunner.RunAsync("pipe");
        Assert.True(exitCode == 0, errors);
        Assert.Equal(["[42,null,\"hello\"]", "pipe ok"], lines);
    }

    [Fact]
    public async Task Barrier_lets_each_round_pass_once_every_party_arrived()
    {
        var (exitCode, lines, errors) = await DemoRunner.RunAsync("barrier", "--parties", "4", "--rounds", "3");
        Assert.True(exitCode == 0, errors);
        Assert.Equal(["round 1", "round 2", "round 3"], lines.SkipLast(1).Select(l => l.Split(':')[0]).Order());
        Assert.Equal("barrier ok: 4 parties met 3 times", lines[^1]);
    }

    [Fact]
    public async Task Tickets_with_the_lock_sells_exactly_what_there_is()
    {
        var (exitCode, lines, errors) = await DemoRunner.RunAsync("tickets", "--buyers", "6", "--tickets", "2");
        Assert.True(exitCode == 0, errors);
        Assert.Equal("sold 2 of 2, remaining 0", lines[^1]);
    }

    [Fact]
    public async Task Tickets_without_the_lock_runs_and_reports_the_sale()
    {
        var (exitCode, lines, errors) = await DemoRunner.RunAsync("tickets", "--buyers", "4", "--tickets", "2", "--no-lock");
        Assert.True(exitCode == 0, errors);
        Assert.Matches(@"^sold \d+ of 2, remaining \d+$", lines[^1]);
    }

    [Fact]
    public async Task Counter_loses_no_increment()
    {
        var (exitCode, lines, errors) = await DemoRunner.RunAsync("counter", "--processes", "4", "--increments", "50");
        Assert.True(exitCode == 0, errors);
        Assert.Equal("final value 200 expected 200", lines[^1]);
    }

    [Fact]
    public async Task Lifecycle_shows_every_step_and_the_child_traceback()
    {
        var (exitCode, lines, errors) = await DemoRunner.RunAsync("lifecycle");
        Assert.True(exitCode == 0, string.Join("\n", lines) + errors);
        Assert.Equal("lifecycle ok", lines[^1]);
        Assert.Contains("exitcode after terminate: -15", lines);
        Assert.Contains("exitcode after kill: -9", lines);
        Assert.Contains("Process failing:", errors);
        Assert.Contains("System.InvalidOperationException: boom", errors);
        Assert.Contains("at Demo.Lifecycle.Fail", errors);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("3")]
    public async Task Pool_map_prints_the_squares(string chunksize)
    {
        var (exitCode, lines, errors) = await DemoRunner.RunAsync("pool-map", "--n", "10", "--chunksize", chunksize, "--processes", "2");
        Assert.True(exitCode == 0, errors);
        Assert.Equal("[1, 4, 9, 16, 25, 36, 49, 64, 81, 100]", lines[^1]);
    }

    [Fact]
    public async Task Pool_map_with_progress_draws_a_bar_to_the_end_on_standard_error()
    {
        var (exitCode, lines, errors) = await DemoRunner.RunAsync("pool-map", "--n", "10", "--chunksize", "2", "--processes", "2", "--progress");
        Assert.True(exitCode == 0, errors);
        Assert.Equal("[1, 4, 9, 16, 25, 36, 49, 64, 81, 100]", lines[^1]);
        Assert.Contains("\r[##############################] 10/10", errors);
    }

    [Fact]
    public async Task Pool_apply_shows_a_callback_and_a_worker_exception()
    {
        var (exitCode, lines, errors) = await DemoRunner.RunAsync("pool-apply");
        Assert.True(exitCode == 0, string.Join("\n", lines) + errors);
        Assert.Contains("callback: square(7) = 49", lines);
        Assert.Contains("apply_async(divide, 1, 0).get() raised System.DivideByZeroException: Attempted to divide by zero.", lines);
        Assert.Contains("error callback: System.DivideByZeroException: Attempted to divide by zero.", lines);
        Assert.Equal("pool-apply ok", lines[^1]);
    }

    [Fact]
    public async Task The_demo_and_the_worker_host_answer_help_and_refuse_a_misspelled_or_missing_option()
    {
        var (exitCode, lines, errors) = await DemoRunner.RunAsync("--help");
        Assert.True(exitCode == 0, errors);
        Assert.Contains(lines, line => line.StartsWith("producer-consumer", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("--broker", StringComparison.Ordinal));
        (exitCode, lines, errors) = await DemoRunner.RunAsync("tickets", "--buyers", "3", "--tickts", "2");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("'--tickts'", errors);
        Assert.DoesNotContain(lines, line => line.StartsWith("sold", StringComparison.Ordinal));
        (exitCode, _, errors) = await DemoRunner.RunAsync("counter", "--processes", "-2");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("--processes takes a whole number of 0 or more", errors);

        (exitCode, lines, errors) = await DemoRunner.RunProgramAsync(DemoRunner.WorkerHostDll, "--help");
        Assert.True(exitCode == 0, errors);
        Assert.Contains(lines, line => line.StartsWith("--max-tasks-per-child", StringComparison.Ordinal));
        (exitCode, _, errors) = await DemoRunner.RunProgramAsync(DemoRunner.WorkerHostDll, "--broker", "redis://127.0.0.1:1", "--pool", "p", "--proceses", "2");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("'--proceses'", errors);
        (exitCode, _, errors) = await DemoRunner.RunProgramAsync(DemoRunner.WorkerHostDll, "--broker", "redis://127.0.0.1:1");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("'--pool' is required", errors);
    }

    [Fact]
    public async Task An_unknown_broker_scheme_fails_with_a_clear_message_and_no_password()
    {
        var (exitCode, _, errors) = await DemoRunner.RunAsync("counter", "--broker", "nats://user:hunter2@127.0.0.1:4222");
        Assert.Equal(1, exitCode);
        Assert.Contains("BrokerUrlException: No installed transport serves 'nats://user:***@127.0.0.1:4222'", errors);
        Assert.DoesNotContain("hunter2", errors);
    }
}

/// <summary>The same subcommands with <c>--broker redis://…</c> end with the same lines.</summary>
[Collection(RedisProcessCollection.Name)]
public sealed class RedisDemoTests(RedisFixture redis)
{
    [Theory]
    [MemberData(nameof(DemoTests.EverySubcommand), MemberType = typeof(DemoTests))]
    public async Task A_subcommand_on_Redis_ends_as_it_does_on_the_local_broker(string lastLine, string[] args)
    {
        var (exitCode, lines, errors) = await DemoRunner.RunAsync([.. args, "--broker", redis.Url]);
        Assert.True(exitCode == 0, string.Join("\n", lines) + errors);
        Assert.Equal(lastLine, lines[^1]);
    }
}

/// <summary>producer-consumer on RabbitMQ alone, and every subcommand on the composite of RabbitMQ and Redis.</summary>
[Collection(CompositeProcessCollection.Name)]
public sealed class RabbitMqDemoTests(RabbitMqFixture rabbitMq, RedisFixture redis)
{
    [Fact]
    public async Task Producer_consumer_runs_on_RabbitMQ_alone()
    {
        var (exitCode, lines, errors) = await DemoRunner.RunAsync("producer-consumer", "--producers", "2", "--items", "6", "--consumers", "2", "--broker", rabbitMq.Url);
        Assert.True(exitCode == 0, string.Join("\n", lines) + errors);
        Assert.Equal("all 12 items done", lines[^1]);
    }

    [Theory]
    [MemberData(nameof(DemoTests.EverySubcommand), MemberType = typeof(DemoTests))]
    public async Task A_subcommand_on_the_composite_ends_as_it_does_on_the_local_broker(string lastLine, string[] args)
    {
        var (exitCode, lines, errors) = await DemoRunner.RunAsync([.. args, "--broker", $"{rabbitMq.Url},{redis.Url}"]);
        Assert.True(exitCode == 0, string.Join("\n", lines) + errors);
        Assert.Equal(lastLine, lines[^1]);
    }
}
