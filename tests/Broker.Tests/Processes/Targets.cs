namespace Broker.Tests.Processes;

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
    private static bool ParentEnds(TimeSpan within)
    {
        System.Diagnostics.Process parent;
        try
        {
            parent = System.Diagnostics.Process.GetProcessById(Process.ParentProcess()!.Pid!.Value);
        }
        catch (ArgumentException)
        {
            return true; // Gone already.
        }
        using (parent)
        {
            return parent.WaitForExit(within);
        }
    }

    public static int ExitWith(int code) => code;

    public static void TakesAnything(object anything) => GC.KeepAlive(anything);

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
