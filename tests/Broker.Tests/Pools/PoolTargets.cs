namespace Broker.Tests.Pools;

using Broker;
using Broker.Tests.Processes;

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

    [PoolTask]
    public static int Fail(string message) => throw new InvalidOperationException(message);

    [PoolTask]
    public static int Pid(int _) => Environment.ProcessId;

    [PoolTask]
    public static int PidAfter(int milliseconds)
    {
        Thread.Sleep(milliseconds);
        return Environment.ProcessId;
    }

    [PoolTask]
    public static string Greeting() => s_greeting;

    public static void Initialize(string greeting) => s_greeting = greeting;

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

    /// <summary>A poison task: it kills whichever worker runs it.</summary>
    [PoolTask]
    public static int KillOwnWorker(int _)
    {
        System.Diagnostics.Process.GetCurrentProcess().Kill();
        return 0;
    }
}
