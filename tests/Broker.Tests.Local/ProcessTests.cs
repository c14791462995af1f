namespace Broker.Tests.Local;

using Broker;

/// <summary>Real child processes on the embedded broker: start, join, exit codes, signals, and what crosses.</summary>
[Collection(ProcessCollection.Name)]
public sealed class ProcessTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_child_runs_its_target_and_the_parent_joins_it()
    {
        var child = new Process(Targets.ExitWith, 0);
        Assert.Null(child.ExitCode);
        Assert.False(child.IsAlive);
        await child.StartAsync();
        Assert.NotNull(child.Pid);
        Assert.NotEqual(Environment.ProcessId, child.Pid);
        Assert.True(await child.JoinAsync(Patience));
        Assert.Equal(0, child.ExitCode);
        Assert.False(child.IsAlive);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(42)]
    public async Task A_target_returning_a_code_exits_with_it(int code)
    {
        await using var child = new Process(Targets.ExitWith, code);
        await child.StartAsync();
        await child.JoinAsync(Patience);
        Assert.Equal(code, child.ExitCode);
    }

    [Fact]
    public async Task An_async_target_is_awaited()
    {
        await using var child = new Process(Targets.ExitAsync, 7);
        await child.StartAsync();
        await child.JoinAsync(Patience);
        Assert.Equal(7, child.ExitCode);
    }

    [Fact]
    public async Task An_unhandled_exception_exits_with_1()
    {
        await using var child = new Process(Targets.Fail, "expected by the test");
        await child.StartAsync();
        await child.JoinAsync(Patience);
        Assert.Equal(1, child.ExitCode);
    }

    [Fact]
    public async Task Terminate_sends_SIGTERM_and_the_exit_code_is_minus_15()
    {
        await using var child = new Process(Targets.Sleep, 60_000);
        await child.StartAsync();
        Assert.False(await child.JoinAsync(TimeSpan.FromMilliseconds(100)));
        Assert.True(child.IsAlive);
        child.Terminate();
        Assert.True(await child.JoinAsync(Patience));
        Assert.Equal(-15, child.ExitCode);
    }

    [Fact]
    public async Task Kill_sends_SIGKILL_and_the_exit_code_is_minus_9()
    {
        await using var child = new Process(Targets.Sleep, 60_000);
        await child.StartAsync();
        child.Kill();
        Assert.True(await child.JoinAsync(Patience));
        Assert.Equal(-9, child.ExitCode);
    }

    [Fact]
    public async Task A_subclass_runs_its_Run_with_its_properties()
    {
        var outbox = new Queue<string>();
        await using var child = new Greeter { Greeting = "hi", Outbox = outbox, Name = "greeter" };
        await child.StartAsync();
        Assert.Equal("hi from greeter", await outbox.GetAsync(Patience));
        await child.JoinAsync(Patience);
        Assert.Equal(0, child.ExitCode);
    }

    [Fact]
    public void The_first_process_is_MainProcess_with_no_parent()
    {
        Assert.Equal("MainProcess", Process.CurrentProcess().Name);
        Assert.Equal(Environment.ProcessId, Process.CurrentProcess().Pid);
        Assert.Null(Process.ParentProcess());
    }

    [Fact]
    public async Task A_lambda_that_captures_fails_at_Start_and_says_why()
    {
        var captured = 5;
        var child = new Process(() => Targets.Sleep(captured));
        var error = await Assert.ThrowsAsync<ProcessStartException>(() => child.StartAsync().AsTask());
        Assert.Contains("captures captured", error.Message);
        Assert.Contains("static method", error.Message);
    }

    [Fact]
    public async Task A_lambda_that_captures_nothing_runs()
    {
        await using var child = new Process(static () => Targets.ExitWith(5));
        await child.StartAsync();
        await child.JoinAsync(Patience);
        Assert.Equal(5, child.ExitCode);
    }

    [Fact]
    public async Task An_argument_that_cannot_be_serialized_fails_at_Start_naming_it()
    {
        var child = new Process(Targets.TakesAnything, new Action(() => { }));
        var error = await Assert.ThrowsAsync<BrokerSerializationException>(() => child.StartAsync().AsTask());
        Assert.StartsWith("Argument 0 ('anything') of Targets.TakesAnything of type System.Action cannot be serialized", error.Message);
        Assert.Null(child.Pid);
    }

    [Fact]
    public async Task An_argument_of_the_wrong_type_or_count_fails_at_Start()
    {
        var wrongType = new Process(Targets.Sleep, "soon");
        Assert.Contains("not a System.Int32", (await Assert.ThrowsAsync<ProcessStartException>(() => wrongType.StartAsync().AsTask())).Message);
        var wrongCount = new Process(Targets.Sleep, 1, 2);
        Assert.Contains("takes 1 argument", (await Assert.ThrowsAsync<ProcessStartException>(() => wrongCount.StartAsync().AsTask())).Message);
    }

    [Fact]
    public async Task A_process_starts_once_and_Daemon_is_set_before_Start()
    {
        await using var child = new Process(Targets.Sleep, 0);
        await child.StartAsync();
        Assert.Throws<InvalidOperationException>(() => child.Daemon = true);
        await Assert.ThrowsAsync<InvalidOperationException>(() => child.StartAsync().AsTask());
        await child.JoinAsync(Patience);
    }

    [Fact]
    public async Task Close_refuses_a_running_process()
    {
        await using var child = new Process(Targets.Sleep, 60_000);
        await child.StartAsync();
        Assert.Throws<InvalidOperationException>(() => child.Close());
        child.Kill();
        await child.JoinAsync(Patience);
        child.Close();
    }
}
