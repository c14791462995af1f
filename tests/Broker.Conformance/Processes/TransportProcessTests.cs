namespace Broker.Conformance;

using Broker;

/// <summary>Real child processes on one transport, written once: handles reach the same objects in a child, and what
/// a SIGKILLed child held comes back (at once where the broker sees the connection drop, when the lease ends where
/// it cannot). One subclass per transport.</summary>
public abstract partial class TransportProcessTests : TransportTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>How long a live holder is checked to keep its lock: several lease lengths where locks have leases.</summary>
    protected virtual TimeSpan HeldCheck => TimeSpan.Zero;

    [Fact]
    public async Task Handles_passed_as_arguments_reach_the_same_queues()
    {
        var inbox = new Queue<string>(broker: Broker);
        var outbox = new Queue<string>(broker: Broker);
        await using var child = new Process(Targets.Echo, inbox, outbox) { Name = "echoer", Context = Broker };
        await child.StartAsync();
        await inbox.PutAsync("hello");
        Assert.Equal($"hello from echoer, child of pid {Environment.ProcessId}", await outbox.GetAsync(Patience));
        await child.JoinAsync(Patience);
        Assert.Equal(0, child.ExitCode);
    }

    /// <summary>A child gets its parent's configuration: it logs from the parent's level up, and reads items with the
    /// serializer options the parent's factory builds (snake_case names, which the default options would not read).</summary>
    [Fact]
    public async Task A_child_logs_at_its_parents_level_and_reads_items_with_its_parents_serializer_options()
    {
        await using var configured = BrokerContext.Connect(await Broker.ShareAsync(CancellationToken.None), new BrokerOptions
        {
            LoggerFactory = new Logging.StandardErrorLoggerFactory(Microsoft.Extensions.Logging.LogLevel.Warning),
            SerializerOptionsFactory = Targets.SnakeCase,
        });
        var people = new Queue<Targets.Person>(broker: configured);
        var reports = new Queue<string>(broker: configured);
        await people.PutAsync(new Targets.Person("Ada"));
        await using var child = new Process(Targets.ReportSettings, people, reports) { Context = configured };
        await child.StartAsync();
        Assert.Equal("Warning", await reports.GetAsync(Patience));
        Assert.Equal("Ada", await reports.GetAsync(Patience));
        Assert.True(await child.JoinAsync(Patience));
        Assert.Equal(0, child.ExitCode);
    }

    [Fact]
    public async Task A_serializer_options_factory_that_captures_a_variable_is_refused_at_Start()
    {
        var naming = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
        await using var configured = BrokerContext.Connect(await Broker.ShareAsync(CancellationToken.None), new BrokerOptions
        {
            SerializerOptionsFactory = () => new System.Text.Json.JsonSerializerOptions { PropertyNamingPolicy = naming },
        });
        var child = new Process(Targets.ExitWith, 0) { Context = configured };
        var error = await Assert.ThrowsAsync<ProcessStartException>(() => child.StartAsync().AsTask());
        Assert.Contains("naming", error.Message);
    }

    [Fact]
    public async Task What_a_child_put_is_in_the_queue_once_the_child_has_ended()
    {
        var queue = new Queue<int>(broker: Broker);
        await using var producer = new Process(Targets.PutRange, queue, 200) { Context = Broker };
        await producer.StartAsync();
        await producer.JoinAsync(Patience);
        Assert.Equal(0, producer.ExitCode);
        Assert.Equal(Enumerable.Range(0, 200), Enumerable.Range(0, 200).Select(_ => queue.GetNowait()));
    }

    [Fact]
    public async Task An_item_over_the_limit_fails_at_a_childs_Put_and_one_at_the_limit_arrives_whole()
    {
        var queue = new Queue<string>(broker: Broker);
        var outcomes = new Queue<string>(broker: Broker);
        await using var child = new Process(Targets.PutTooLarge, queue, outcomes) { Context = Broker };
        await child.StartAsync();
        Assert.Equal($"{queue.Name} {queue.MaxItemSize + 1} {queue.MaxItemSize}", await outcomes.GetAsync(Patience));
        Assert.Equal("put", await outcomes.GetAsync(Patience));
        Assert.Equal(queue.MaxItemSize - 2, (await queue.GetAsync(Patience)).Length);
        await child.JoinAsync(Patience);
        Assert.Equal(0, child.ExitCode);
    }

    [Fact]
    public async Task A_consumer_killed_mid_task_loses_nothing_and_Join_returns()
    {
        var queue = new JoinableQueue<string>(broker: Broker);
        var taken = new Value<int>(0, broker: Broker);
        var done = new Queue<string>(broker: Broker);
        await queue.PutAsync("job-1");
        await queue.PutAsync("job-2");

        await using var victim = new Process(Targets.TakeAndHang, queue, taken) { Context = Broker };
        await victim.StartAsync();
        await Eventually.TrueAsync(async () => await taken.GetAsync() == 1, "the victim to take an item");
        victim.Kill();
        await victim.JoinAsync(Patience);
        Assert.Equal(-9, victim.ExitCode);

        await using var survivor = new Process(Targets.Consume, queue, done) { Daemon = true, Context = Broker };
        await survivor.StartAsync();
        Assert.True(await queue.JoinAsync(Patience), "Join returns once the redelivered item is done");
        var finished = new[] { await done.GetAsync(Patience), await done.GetAsync(Patience) };
        Assert.Equal(["job-1", "job-2"], finished.Order());
    }

    [Fact]
    public async Task A_TaskDone_reaches_Join_while_its_child_goes_on_without_sending_anything_else()
    {
        var queue = new JoinableQueue<string>(broker: Broker);
        await queue.PutAsync("job");
        await using var worker = new Process(Targets.FinishAndHang, queue) { Context = Broker };
        await worker.StartAsync();
        Assert.True(await queue.JoinAsync(Patience), "Join returns once the child's TaskDone arrives");
        worker.Kill();
        await worker.JoinAsync(Patience);
    }

    /// <summary>CPython's test_event, its process part: a child's Set ends the parent's Wait.</summary>
    [Fact]
    public async Task An_event_a_child_sets_ends_its_parents_wait()
    {
        var set = new Event(broker: Broker);
        var go = new Queue<int>(broker: Broker);
        await using var child = new Process(Targets.SetWhenTold, set, go) { Daemon = true, Context = Broker };
        await child.StartAsync();
        var waiting = set.WaitAsync(Patience).AsTask();
        await go.PutAsync(1);
        Assert.True(await waiting);
        Assert.True(await child.JoinAsync(Patience));
        Assert.Equal(0, child.ExitCode);
    }

    /// <summary>CPython's test_notify, across processes: a child's notify ends the parent's wait_for.</summary>
    [Fact]
    public async Task A_condition_a_child_notifies_ends_its_parents_WaitFor()
    {
        var condition = new Condition(broker: Broker);
        var state = new Value<int>(0, broker: Broker);
        await using var child = new Process(Targets.SetAndNotify, condition, state) { Daemon = true, Context = Broker };
        await using (await condition.EnterScopeAsync())
        {
            await child.StartAsync();
            Assert.True(await condition.WaitForAsync(async () => await state.GetAsync() == 1, Patience));
        }
        Assert.True(await child.JoinAsync(Patience));
        Assert.Equal(0, child.ExitCode);
    }

    /// <summary>CPython's test_connection with a process: a child echoes on its end until the parent closes its own.</summary>
    [Fact]
    public async Task A_child_echoes_on_its_end_of_a_pipe_until_the_parent_closes_its_own()
    {
        var (mine, theirs) = Pipe.Create(broker: Broker);
        await using var child = new Process(Targets.EchoUntilEnd, theirs) { Daemon = true, Context = Broker };
        await child.StartAsync();
        await mine.SendBytesAsync("ping"u8.ToArray());
        Assert.Equal("ping"u8.ToArray(), await mine.RecvBytesAsync());
        await mine.SendAsync(new[] { 1, 2 });
        Assert.Equal(new[] { 1, 2 }, await mine.RecvAsync<int[]>());
        await mine.CloseAsync();
        Assert.True(await child.JoinAsync(Patience));
        Assert.Equal(0, child.ExitCode);
    }

    /// <summary>Better than Python, whose recv waits for ever when the process at the other end dies while the
    /// parent keeps that end too: a receive reports the end of the pipe, even if the child never used its end.</summary>
    [Fact]
    public async Task A_receive_reports_the_end_of_the_pipe_when_the_process_at_the_other_end_is_killed()
    {
        var (mine, theirs) = Pipe.Create(broker: Broker);
        await using var holder = new Process(Targets.HoldEndAndHang, theirs) { Context = Broker };
        await holder.StartAsync();
        var receiving = mine.RecvAsync<string>().AsTask();
        await Task.Delay(500);
        Assert.False(receiving.IsCompleted, "a live holder keeps the pipe open");

        holder.Kill();

        var error = await Assert.ThrowsAsync<EndOfStreamException>(() => receiving.WaitAsync(Patience));
        Assert.Contains(mine.Name, error.Message);
    }

    /// <summary>A child killed as it starts, before it could take the end it was given, ends the pipe too.</summary>
    [Fact]
    public async Task A_receive_reports_the_end_of_the_pipe_when_the_child_given_the_other_end_dies_before_taking_it()
    {
        var (mine, theirs) = Pipe.Create(broker: Broker);
        await using var holder = new Process(Targets.HoldEndAndHang, theirs) { Context = Broker };
        await holder.StartAsync();
        holder.Kill();

        var error = await Assert.ThrowsAsync<EndOfStreamException>(() => mine.RecvAsync<string>().AsTask().WaitAsync(Patience));
        Assert.Contains(mine.Name, error.Message);
    }

    /// <summary>Better than Python, whose barrier waits for ever for a party that died: a party killed while others
    /// wait breaks the barrier for them, and after a reset a new round passes.</summary>
    [Fact]
    public async Task A_party_killed_while_others_wait_breaks_the_barrier_for_them()
    {
        var barrier = new Barrier(3, broker: Broker);
        await using var party = new Process(Targets.WaitAtBarrier, barrier) { Context = Broker };
        await party.StartAsync();
        await Eventually.TrueAsync(async () => await barrier.NWaitingAsync() == 1, "the child to wait", Patience);
        var waiting = barrier.WaitAsync(Patience).AsTask();
        await Eventually.TrueAsync(async () => await barrier.NWaitingAsync() == 2, "the parent to wait");

        party.Kill();

        var error = await Assert.ThrowsAsync<BrokenBarrierException>(() => waiting);
        Assert.Contains(barrier.Name, error.Message);
        await barrier.ResetAsync();
        var round = Enumerable.Range(0, 3).Select(_ => barrier.WaitAsync(Patience).AsTask()).ToList();
        Assert.Equal([0, 1, 2], (await Task.WhenAll(round)).Order());
    }

    /// <summary>Better than Python, whose semaphore keeps the count a dead process took: the permits a killed child
    /// held come back, and a bounded semaphore passed as a plain one stays bounded.</summary>
    [Fact]
    public async Task The_permit_a_killed_child_held_comes_back()
    {
        var semaphore = new BoundedSemaphore(1, broker: Broker);
        var held = new Value<int>(0, broker: Broker);
        await using var holder = new Process(Targets.AcquireAndHang, (Semaphore)semaphore, held) { Context = Broker };
        await holder.StartAsync();
        await Eventually.TrueAsync(async () => await held.GetAsync() == 1, "the child to hold the permit");
        Assert.False(await semaphore.AcquireAsync(HeldCheck), "a live holder keeps its permit");
        Assert.Throws<SemaphoreFullException>(() => semaphore.Release());

        holder.Kill();

        Assert.True(await semaphore.AcquireAsync(Patience));
        await semaphore.ReleaseAsync();
        Assert.Equal(1, await semaphore.GetValueAsync());
    }

    [Fact]
    public async Task A_lock_whose_holder_is_killed_is_freed()
    {
        var @lock = new Lock(broker: Broker);
        var held = new Value<int>(0, broker: Broker);
        await using var holder = new Process(Targets.HoldAndHang, @lock, held) { Context = Broker };
        await holder.StartAsync();
        await Eventually.TrueAsync(async () => await held.GetAsync() == 1, "the child to hold the lock");
        Assert.False(await @lock.AcquireAsync(HeldCheck), "a live holder keeps its lock");

        holder.Kill();

        Assert.True(await @lock.AcquireAsync(Patience));
        await @lock.ReleaseAsync();
    }
}
