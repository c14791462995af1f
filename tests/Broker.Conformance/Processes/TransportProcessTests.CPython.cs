namespace Broker.Conformance;

using Broker;

/// <summary>The semantics of CPython's <c>Lib/test/_test_multiprocessing.py</c>, <c>_TestProcess</c>, carried over
/// case by case (each test names the one it ports) and run on every transport with real children.</summary>
public abstract partial class TransportProcessTests
{
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(2);

    /// <summary>test_current and test_parent_process_attributes.</summary>
    [Fact]
    public async Task A_child_knows_its_own_pid_and_name_and_its_parents()
    {
        var reports = new Queue<string>(broker: Broker);
        var child = new Process(Targets.ReportIdentity, reports) { Name = "Identified", Context = Broker };
        await child.StartAsync();
        var report = await reports.GetAsync(Patience);
        await child.JoinAsync(Patience);
        Assert.Equal($"Identified {child.Pid} {child.Pid} True none {Process.CurrentProcess().Name} {Environment.ProcessId}", report);
        Assert.Null(Process.ParentProcess());
    }

    /// <summary>test_parent_process: a grandchild sees its parent alive, then joins it once it is terminated.</summary>
    [Fact]
    public async Task A_grandchild_joins_its_parent_once_the_parent_is_terminated()
    {
        var reports = new Queue<string>(broker: Broker);
        var child = new Process(Targets.StartGrandchildAndHang, reports) { Context = Broker };
        await child.StartAsync();
        Assert.Equal("alive", await reports.GetAsync(Patience));
        child.Terminate();
        await child.JoinAsync(Patience);
        Assert.Equal(-15, child.ExitCode);
        Assert.Equal("not alive", await reports.GetAsync(Patience));
    }

    /// <summary>test_close: not while running; then once, twice; afterwards is_alive, join and terminate raise.</summary>
    [Fact]
    public async Task Close_refuses_a_running_child_then_closes_once_and_for_all()
    {
        var go = new Queue<int>(broker: Broker);
        var child = new Process(Targets.EndWhenGiven, go) { Daemon = true, Context = Broker };
        await child.StartAsync();
        Assert.True(child.IsAlive);
        Assert.Throws<InvalidOperationException>(child.Close);
        await go.PutAsync(1);
        await child.JoinAsync(Patience);
        Assert.False(child.IsAlive);
        Assert.Equal(0, child.ExitCode);
        child.Close();
        Assert.Throws<InvalidOperationException>(() => child.IsAlive);
        Assert.Throws<InvalidOperationException>(() => child.Join());
        Assert.Throws<InvalidOperationException>(child.Terminate);
        child.Close();
        Assert.Equal(0, child.ExitCode);
    }

    /// <summary>_kill_process and test_active_children: join(0) and join(-1) return at once while the child runs;
    /// it is among the active children until it ends.</summary>
    [Fact]
    public async Task Join_with_zero_or_a_negative_timeout_returns_at_once_and_active_children_follow_the_child()
    {
        var child = new Process(Targets.WaitToBeKilled) { Daemon = true, Context = Broker };
        Assert.DoesNotContain(child, Process.ActiveChildren());
        await child.StartAsync();
        Assert.Contains(child, Process.ActiveChildren());
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(await child.JoinAsync(TimeSpan.Zero));
        Assert.False(await child.JoinAsync(TimeSpan.FromSeconds(-1)));
        Assert.True(clock.Elapsed < Quick, $"join(0) and join(-1) took {clock.Elapsed}");
        Assert.True(child.IsAlive);
        child.Terminate();
        Assert.True(await child.JoinAsync(Patience));
        Assert.Equal(-15, child.ExitCode);
        Assert.DoesNotContain(child, Process.ActiveChildren());
    }

    /// <summary>test_wait_for_threads: a child waits for the foreground threads its target started (and can still use
    /// the broker from them), not for its background ones.</summary>
    [Fact]
    public async Task A_child_waits_for_its_foreground_threads_and_not_for_its_background_ones()
    {
        var returned = new Queue<string>(broker: Broker);
        var go = new Queue<string>(broker: Broker);
        var flag = new Value<int>(0, broker: Broker);
        var child = new Process(Targets.ReturnBeforeThreads, returned, go, flag) { Context = Broker };
        await child.StartAsync();
        Assert.Equal("returned", await returned.GetAsync(Patience));
        Assert.False(await child.JoinAsync(TimeSpan.FromMilliseconds(200)), "the child waits for its foreground thread");
        await go.PutAsync("go");
        Assert.True(await child.JoinAsync(Patience));
        Assert.Equal(0, child.ExitCode);
        Assert.Equal(1, await flag.GetAsync());
    }

    /// <summary>test_sys_exit's codes: an exit code above 128 is the target's own, not a signal.</summary>
    [Theory]
    [InlineData(130)]
    [InlineData(143)]
    [InlineData(255)]
    public async Task An_exit_code_above_128_is_the_targets_own_not_a_signal(int code)
    {
        var child = new Process(Targets.ExitWith, code) { Context = Broker };
        await child.StartAsync();
        await child.JoinAsync(Patience);
        Assert.Equal(code, child.ExitCode);
    }

    /// <summary>A value's and an array's lock reach a child with them: a given one by its name and kind, none for a
    /// value made without.</summary>
    [Fact]
    public async Task A_values_given_lock_and_a_raw_values_lack_of_one_reach_a_child()
    {
        var shared = new Lock(broker: Broker);
        var value = new Value<int>(0, broker: Broker, lockWith: shared);
        var array = new Array<int>(2, broker: Broker);
        var raw = new Value<int>(0, broker: Broker, synchronized: false);
        var reports = new Queue<string>(broker: Broker);
        var child = new Process(Targets.ReportLocks, value, array, raw, reports) { Context = Broker };
        await child.StartAsync();
        Assert.Equal($"Lock {shared.Name}", await reports.GetAsync(Patience));
        Assert.Equal($"RLock {array.Name}.lock", await reports.GetAsync(Patience));
        Assert.Equal("none", await reports.GetAsync(Patience));
        await child.JoinAsync(Patience);
        Assert.Equal(0, child.ExitCode);
    }

    /// <summary>_TestQueue.test_put: a full queue refuses puts (at once, or after their timeout) until a child takes
    /// its items.</summary>
    [Fact]
    public async Task A_full_queue_refuses_puts_until_a_child_takes_its_items()
    {
        var queue = new Queue<int>(maxsize: 6, broker: Broker);
        var childCanStart = new Queue<string>(broker: Broker);
        var parentCanContinue = new Queue<string>(broker: Broker);
        var child = new Process(Targets.TakeSixWhenTold, queue, childCanStart, parentCanContinue) { Daemon = true, Context = Broker };
        await child.StartAsync();
        Assert.True(queue.Empty());
        Assert.False(queue.Full());
        queue.Put(1);
        queue.Put(2, true);
        queue.Put(3, true, null);
        queue.Put(4, false);
        queue.Put(5, false, null);
        queue.PutNowait(6);
        Assert.False(queue.Empty());
        Assert.True(queue.Full());
        Assert.Throws<QueueFullException>(() => queue.Put(7, false));
        Assert.Throws<QueueFullException>(() => queue.PutNowait(7));
        Assert.Throws<QueueFullException>(() => queue.Put(7, false, TimeSpan.FromSeconds(10)));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Throws<QueueFullException>(() => queue.Put(7, true, TimeSpan.FromMilliseconds(200)));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(190), $"a put with a 200 ms timeout gave up after {clock.Elapsed}");
        await childCanStart.PutAsync("go");
        Assert.Equal("done", await parentCanContinue.GetAsync(Patience));
        Assert.True(queue.Empty());
        Assert.False(queue.Full());
        await child.JoinAsync(Patience);
    }

    /// <summary>_TestQueue.test_task_done: four workers mark items done, and join returns once all are.</summary>
    [Fact]
    public async Task Join_returns_once_workers_in_other_processes_marked_every_item_done()
    {
        var queue = new JoinableQueue<int?>(broker: Broker);
        var workers = Enumerable.Range(0, 4).Select(_ => new Process(Targets.MarkDoneUntilNull, queue) { Daemon = true, Context = Broker }).ToList();
        foreach (var worker in workers)
        {
            await worker.StartAsync();
        }
        for (var i = 0; i < 10; i++)
        {
            await queue.PutAsync(i);
        }
        Assert.True(await queue.JoinAsync(Patience));
        foreach (var _ in workers)
        {
            await queue.PutAsync(null);
        }
        foreach (var worker in workers)
        {
            Assert.True(await worker.JoinAsync(Patience));
            Assert.Equal(0, worker.ExitCode);
        }
    }

    /// <summary>_TestValue.test_value: what a child sets, the parent reads.</summary>
    [Fact]
    public async Task Values_a_child_sets_are_what_the_parent_reads()
    {
        var integer = new Value<int>(250, broker: Broker);
        var large = new Value<long>(1L << 33, broker: Broker);
        var real = new Value<double>(1.25, broker: Broker);
        var child = new Process(Targets.SetValues, integer, large, real) { Context = Broker };
        await child.StartAsync();
        await child.JoinAsync(Patience);
        Assert.Equal((0, -(1 << 30), 1L << 40, -1.25), (child.ExitCode, await integer.GetAsync(), await large.GetAsync(), await real.GetAsync()));
    }

    /// <summary>_TestArray.test_array: what a child writes across the array, the parent reads.</summary>
    [Fact]
    public async Task An_array_a_child_rewrites_is_what_the_parent_reads()
    {
        long[] seq = [681, -683, 0, 0, 1, 7, 11, 5, -6, 71, 2];
        var array = new Array<long>(seq, broker: Broker);
        var child = new Process(Targets.PrefixSums, array) { Context = Broker };
        await child.StartAsync();
        await child.JoinAsync(Patience);
        for (var i = 1; i < seq.Length; i++)
        {
            seq[i] += seq[i - 1];
        }
        Assert.Equal(seq, await array.ToArrayAsync());
    }

    /// <summary>test_recursion: children start children of their own, in order.</summary>
    [Fact]
    public async Task Children_start_and_join_children_of_their_own()
    {
        var ids = new Queue<string>(broker: Broker);
        Targets.Recurse(ids, "");
        var seen = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            seen.Add(await ids.GetAsync(Patience));
        }
        Assert.Equal(["", "0", "00", "01", "1", "10", "11"], seen);
    }
}
