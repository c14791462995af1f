namespace Broker.Tests.Processes;

using Broker;

/// <summary>Code the tests run in child processes.</summary>
public static class Targets
{
    public static void Sleep(int milliseconds) => Thread.Sleep(milliseconds);

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
        Thread.Sleep(Timeout.Infinite);
    }

    public static void HoldAndHang(Lock @lock, Value<int> held)
    {
        @lock.Acquire();
        held.Set(1);
        Thread.Sleep(Timeout.Infinite);
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
        Thread.Sleep(Timeout.Infinite);
    }
}

/// <summary>A subclass whose state travels to the child, as Python pickles a Process subclass.</summary>
public sealed class Greeter : Process
{
    public string Greeting { get; set; } = "";

    public Queue<string>? Outbox { get; set; }

    public override void Run() => Outbox!.Put($"{Greeting} from {CurrentProcess().Name}");
}
