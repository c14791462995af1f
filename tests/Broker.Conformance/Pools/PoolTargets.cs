namespace Broker.Conformance;

using System.Diagnostics;
using Broker;

/// <summary>What the pool tests run in workers.</summary>
public static class Tasks
{
    private static string s_greeting = "not initialized";

    [PoolTask]
    public static int Square(int x) => x * x;

    [PoolTask]
    public static int Add(int a, int b) => a + b;

    [PoolTask]
    public static async Task<string> Echo(string text)
    {
        await Task.Yield();
        return text;
    }

    [PoolTask]
    public static string? Nothing(int _) => null;

    [PoolTask]
    public static string Describe(object value) => $"{value}";

    [PoolTask]
    public static object Unserializable() => new Action(() => { });

    /// <summary>Its result for 0 cannot be serialized.</summary>
    [PoolTask]
    public static object UnserializableAtZero(int x) => x == 0 ? new Action(() => { }) : x;

    [PoolTask]
    public static int Fail(string message) => throw new InvalidOperationException(message);

    [PoolTask]
    public static int Pid(int _) => Environment.ProcessId;

    /// <summary>Counts itself started, then waits (10 s at most) until the task paired with it (the first with the
    /// second, the third with the fourth...) has started too, which only another worker can do; returns its pid.</summary>
    [PoolTask]
    public static int PidOnceItsPartnerStarted(Value<int> started)
    {
        var mine = started.Add(1);
        var partner = (mine + 1) / 2 * 2;
        WaitUntil(() => started.Get() >= partner, $"Task {mine} waited 10 s for task {partner} to start on another worker.");
        return Environment.ProcessId;
    }

    /// <summary>Marks item <paramref name="index"/> started, then waits (10 s at most) until its neighbour (0 with 1,
    /// 2 with 3...) has started too; returns its pid.</summary>
    [PoolTask]
    public static int PidOnceItsNeighbourStarted(Array<int> started, int index)
    {
        started[index] = 1;
        WaitUntil(() => started[index ^ 1] != 0, $"Item {index} waited 10 s for item {index ^ 1} to start.");
        return Environment.ProcessId;
    }

    private static void WaitUntil(Func<bool> condition, string timedOut)
    {
        if (!SpinWait.SpinUntil(condition, TimeSpan.FromSeconds(10)))
        {
            throw new TimeoutException(timedOut);
        }
    }

    [PoolTask]
    public static string Greeting() => s_greeting;

    public static void Initialize(string greeting) => s_greeting = greeting;

    /// <summary>The trace, span and parent span ids of the span the task runs in, as the worker sees it.</summary>
    [PoolTask]
    public static string[] CurrentSpan() =>
        Activity.Current is { } span ? [span.TraceId.ToString(), span.SpanId.ToString(), span.ParentSpanId.ToString()] : [];

    /// <summary>The first attempt reports its pid and waits to be killed; the next one answers.</summary>
    [PoolTask]
    public static string SurviveOneKill(Value<int> attempts, Value<int> firstPid)
    {
        if (attempts.Add(1) == 1)
        {
            firstPid.Set(Environment.ProcessId);
            Targets.WaitToBeKilled();
        }
        return "done on a second worker";
    }

    [PoolTask]
    public static int Hang(int _)
    {
        Targets.WaitToBeKilled();
        return 0;
    }

    public static int NotMarked(int x) => x;

    /// <summary>Waits (10 s at most) for <paramref name="go"/>, then squares.</summary>
    [PoolTask]
    public static int SquareWhenSet(Event go, int x) =>
        go.Wait(TimeSpan.FromSeconds(10)) ? x * x : throw new TimeoutException($"Task {x} waited 10 s for its event.");

    /// <summary>Says it started, waits (30 s at most) for its token, and says whether the token fired.</summary>
    [PoolTask]
    public static bool ReportCancellation(Queue<string> reports, CancellationToken cancellation)
    {
        reports.Put("started");
        var fired = cancellation.WaitHandle.WaitOne(TimeSpan.FromSeconds(30));
        reports.Put(fired ? "cancelled" : "not cancelled");
        return fired;
    }

    /// <summary>Adds, and says whether its token had fired: it never does for a task nobody cancels.</summary>
    [PoolTask]
    public static string AddUncancelled(int x, int y, CancellationToken cancellation) => $"{x + y} {cancellation.IsCancellationRequested}";

    /// <summary>The tutorial's writer: puts <paramref name="count"/> greetings.</summary>
    [PoolTask]
    public static int WriteGreetings(Queue<string> queue, int count)
    {
        for (var i = 0; i < count; i++)
        {
            queue.Put("hello");
        }
        return count;
    }

    /// <summary>The tutorial's reader: takes <paramref name="count"/> items (10 s each at most) and counts each in
    /// <paramref name="seen"/>.</summary>
    [PoolTask]
    public static int CountGreetings(Queue<string> queue, DictProxy<string, int> seen, int count)
    {
        for (var i = 0; i < count; i++)
        {
            seen.AddOrUpdate(queue.Get(timeout: TimeSpan.FromSeconds(10)), 1, (_, n) => n + 1);
        }
        return count;
    }

    /// <summary>Counts one more in <paramref name="tally"/>'s "total" and appends <paramref name="item"/> to
    /// <paramref name="items"/>.</summary>
    [PoolTask]
    public static int Tally(DictProxy<string, int> tally, ListProxy<int> items, int item)
    {
        items.Append(item);
        return tally.AddOrUpdate("total", 1, (_, n) => n + 1);
    }

    /// <summary>Waits (10 s at most) for the event named <paramref name="name"/>, and returns its name.</summary>
    [PoolTask]
    public static string NameOnceSet(string name) =>
        new Event(name).Wait(TimeSpan.FromSeconds(10)) ? name : throw new TimeoutException($"Event {name} was not set within 10 s.");

    /// <summary>Ends its worker with SIGKILL before it uses <paramref name="end"/>.</summary>
    [PoolTask]
    public static int KillOwnWorkerHolding(Connection end)
    {
        System.Diagnostics.Process.GetCurrentProcess().Kill();
        return end.End;
    }

    /// <summary>A poison task: it kills whichever worker runs it.</summary>
    [PoolTask]
    public static int KillOwnWorker(int _)
    {
        System.Diagnostics.Process.GetCurrentProcess().Kill();
        return 0;
    }
}
