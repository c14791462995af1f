namespace Broker.Conformance;

using Broker;

/// <summary>Code the tests run in child processes.</summary>
public static class Targets
{
    /// <summary>Python's <c>time.sleep</c> in a child: returns after <paramref name="milliseconds"/>, or as soon as
    /// the process that started it ends, so that no test leaves it behind.</summary>
    public static void Sleep(int milliseconds) => ParentEnds(TimeSpan.FromMilliseconds(milliseconds));

    /// <summary>Blocks until the test kills this process. A test that never does gets a failure after two minutes,
    /// and a test process that ends takes this one with it: nothing is left running.</summary>
    public static void WaitToBeKilled()
    {
        if (!ParentEnds(TimeSpan.FromMinutes(2)))
        {
            throw new TimeoutException("The test did not kill this process within two minutes.");
        }
    }

    /// <summary>Waits up to <paramref name="within"/> for the process that started this one to end.</summary>
    private static bool ParentEnds(TimeSpan within) => Process.ParentProcess()!.Join(within);

    /// <summary>What CPython's test_current and test_parent_process_attributes read in a child.</summary>
    public static void ReportIdentity(Queue<string> reports)
    {
        var current = Process.CurrentProcess();
        var parent = Process.ParentProcess()!;
        reports.Put($"{current.Name} {current.Pid} {Environment.ProcessId} {current.IsAlive} {current.ExitCode?.ToString() ?? "none"} {parent.Name} {parent.Pid}");
    }

    /// <summary>CPython's _test_create_grandchild_process: starts a grandchild that watches this process, then waits
    /// to be terminated.</summary>
    public static void StartGrandchildAndHang(Queue<string> reports)
    {
        new Process(ReportParentStatus, reports).Start();
        WaitToBeKilled();
    }

    /// <summary>CPython's _test_report_parent_status: the parent alive, then, once it is joined, not.</summary>
    public static void ReportParentStatus(Queue<string> reports)
    {
        var parent = Process.ParentProcess()!;
        reports.Put(parent.IsAlive ? "alive" : "not alive");
        parent.Join(TimeSpan.FromSeconds(30));
        reports.Put(parent.IsAlive ? "alive" : "not alive");
    }

    /// <summary>CPython's _test_wait_for_threads: a foreground thread that outlives the target holds the process until it
    /// ends (it sets <paramref name="flag"/> once the parent says go); a background thread, blocked for good, does not.</summary>
    public static void ReturnBeforeThreads(Queue<string> returned, Queue<string> go, Value<int> flag)
    {
        new Thread(() =>
        {
            go.Get();
            flag.Set(1);
        }).Start();
        var never = new Queue<string>();
        new Thread(() => never.Get()) { IsBackground = true }.Start();
        returned.Put("returned");
    }

    /// <summary>CPython's _test_recursion: each process puts its id, then starts and joins two children of its own.</summary>
    public static void Recurse(Queue<string> ids, string id)
    {
        ids.Put(id);
        if (id.Length < 2)
        {
            for (var i = 0; i < 2; i++)
            {
                var child = new Process(Recurse, ids, $"{id}{i}") { Context = ids.Context };
                child.Start();
                child.Join();
            }
        }
    }

    /// <summary>Reports the locks a value and an array reached in this child: their kind and name, or none.</summary>
    public static void ReportLocks(Value<int> value, Array<int> array, Value<int> raw, Queue<string> reports)
    {
        reports.Put($"{value.GetLock().GetType().Name} {value.GetLock().Name}");
        reports.Put($"{array.GetLock().GetType().Name} {array.GetLock().Name}");
        try
        {
            reports.Put(raw.GetLock().Name);
        }
        catch (InvalidOperationException)
        {
            reports.Put("none");
        }
    }

    /// <summary>CPython's _TestQueue._test_put: once told, takes six items, then says so.</summary>
    public static void TakeSixWhenTold(Queue<int> queue, Queue<string> childCanStart, Queue<string> parentCanContinue)
    {
        childCanStart.Get();
        for (var i = 0; i < 6; i++)
        {
            queue.Get();
        }
        parentCanContinue.Put("done");
    }

    /// <summary>CPython's _TestQueue._test_task_done: marks each item done until a null comes.</summary>
    public static void MarkDoneUntilNull(JoinableQueue<int?> queue)
    {
        while (queue.Get() is not null)
        {
            queue.TaskDone();
        }
    }

    /// <summary>CPython's _TestValue._test: sets each value to its new number.</summary>
    public static void SetValues(Value<int> integer, Value<long> large, Value<double> real)
    {
        integer.Set(-(1 << 30));
        large.Set(1L << 40);
        real.Set(-1.25);
    }

    /// <summary>CPython's _TestArray._test: each element becomes the sum of those up to it.</summary>
    public static void PrefixSums(Array<long> array)
    {
        for (var i = 1; i < array.Length; i++)
        {
            array[i] += array[i - 1];
        }
    }

    /// <summary>Takes a small item, so that the broker hands it more ahead; asks for a large one and, before the answer
    /// can be read, stops itself with SIGSTOP; once continued, reports the large item's length.</summary>
    public static async Task HoldAheadThenAskAndStop(Queue<string> small, Queue<string> large, Queue<int> lengths)
    {
        await small.GetAsync();
        // Declared first, so that the get's request leaves at once.
        await large.CountAsync();
        var pending = large.GetAsync();
        Assert.Equal(0, kill(Environment.ProcessId, 19));
        lengths.Put((await pending).Length);
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern int kill(int pid, int signal);

    /// <summary>Reports what this child got from its parent: the least severe level it logs, and a name it reads.</summary>
    public static void ReportSettings(Queue<Person> people, Queue<string> reports)
    {
        var logger = Process.CurrentProcess().Context.Options.LoggerFactory.CreateLogger("Broker");
        var levels = Enum.GetValues<Microsoft.Extensions.Logging.LogLevel>().Where(logger.IsEnabled);
        reports.Put(levels.DefaultIfEmpty(Microsoft.Extensions.Logging.LogLevel.None).Min().ToString());
        reports.Put(people.Get().FirstName);
    }

    public sealed record Person(string FirstName);

    /// <summary>Serializer options a child can build too.</summary>
    public static System.Text.Json.JsonSerializerOptions SnakeCase() =>
        new(System.Text.Json.JsonSerializerDefaults.Web) { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower };

    /// <summary>CPython's _test_close: ends when an item comes.</summary>
    public static void EndWhenGiven(Queue<int> go) => go.Get();

    public static int ExitWith(int code) => code;

    public static void TakesAnything(object anything) => GC.KeepAlive(anything);

    public static void HoldEndAndHang(Connection connection)
    {
        GC.KeepAlive(connection);
        WaitToBeKilled();
    }

    public static void Fail(string message) => throw new InvalidOperationException(message);

    public static async Task<int> ExitAsync(int code)
    {
        await Task.Delay(10);
        return code;
    }

    public static void PutRange(Queue<int> queue, int count)
    {
        for (var i = 0; i < count; i++)
        {
            queue.Put(i);
        }
    }

    /// <summary>Puts an item one byte over the queue's limit, then one at the limit, and reports each outcome.</summary>
    public static void PutTooLarge(Queue<string> queue, Queue<string> outcomes)
    {
        // A string's JSON is its characters and two quotes.
        try
        {
            queue.Put(new string('x', queue.MaxItemSize - 1));
            outcomes.Put("put");
        }
        catch (ItemTooLargeException e)
        {
            outcomes.Put($"{e.Queue} {e.Size} {e.Limit}");
        }
        queue.Put(new string('y', queue.MaxItemSize - 2));
        outcomes.Put("put");
    }

    public static void Echo(Queue<string> inbox, Queue<string> outbox)
    {
        var item = inbox.Get(timeout: TimeSpan.FromSeconds(30));
        outbox.Put($"{item} from {Process.CurrentProcess().Name}, child of pid {Process.ParentProcess()?.Pid}");
    }

    /// <summary>Takes one item, says so, and works on it for ever: the test kills it mid-task.</summary>
    public static void TakeAndHang(JoinableQueue<string> queue, Value<int> taken)
    {
        queue.Get();
        taken.Add(1);
        WaitToBeKilled();
    }

    /// <summary>Takes one item, marks it done, and then sends nothing more until the test kills it.</summary>
    public static void FinishAndHang(JoinableQueue<string> queue)
    {
        queue.Get();
        queue.TaskDone();
        WaitToBeKilled();
    }

    /// <summary>CPython's _test_event, which sets the event after a pause: here, once its parent waits.</summary>
    public static void SetWhenTold(Event set, Queue<int> go)
    {
        go.Get();
        set.Set();
    }

    /// <summary>CPython's _test_notify: changes the state the condition guards and notifies, holding its lock.</summary>
    public static void SetAndNotify(Condition condition, Value<int> state)
    {
        using (condition.EnterScope())
        {
            state.Set(1);
            condition.NotifyAll();
        }
    }

    /// <summary>CPython's _echo: sends back what it receives until the pipe ends.</summary>
    public static void EchoUntilEnd(Connection connection)
    {
        try
        {
            while (true)
            {
                connection.SendBytes(connection.RecvBytes());
            }
        }
        catch (EndOfStreamException)
        {
        }
    }

    public static void WaitAtBarrier(Barrier barrier) => barrier.Wait();

    public static void AcquireAndHang(Semaphore semaphore, Value<int> held)
    {
        semaphore.Acquire();
        held.Set(1);
        WaitToBeKilled();
    }

    public static void HoldAndHang(Lock @lock, Value<int> held)
    {
        @lock.Acquire();
        held.Set(1);
        WaitToBeKilled();
    }

    public static void Consume(JoinableQueue<string> queue, Queue<string> done)
    {
        while (true)
        {
            var item = queue.Get();
            done.Put(item);
            queue.TaskDone();
        }
    }

    /// <summary>Starts a daemon grandchild, reports its pid, and waits to be killed.</summary>
    public static void StartDaemonAndHang(Queue<int> pids)
    {
        var daemon = new Process(Sleep, 120_000) { Daemon = true };
        daemon.Start();
        pids.Put(daemon.Pid!.Value);
        WaitToBeKilled();
    }
}

/// <summary>A subclass whose state travels to the child, as Python pickles a Process subclass.</summary>
public sealed class Greeter : Process
{
    public string Greeting { get; set; } = "";

    public Queue<string>? Outbox { get; set; }

    public override void Run() => Outbox!.Put($"{Greeting} from {CurrentProcess().Name}");
}
