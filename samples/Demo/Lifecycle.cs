namespace Demo;

using Broker;

/// <summary>A process's life, step by step: start, is_alive, join with a timeout, terminate, kill, exit codes,
/// an exception in a child, and a daemon.</summary>
public static class Lifecycle
{
    public static int Run(Arguments args)
    {
        var failures = 0;
        void Expect(string step, object? actual, object? expected)
        {
            var ok = Equals(actual, expected);
            failures += ok ? 0 : 1;
            Console.WriteLine($"{step}: {actual}{(ok ? "" : $" (expected {expected})")}");
        }

        var sleeper = new Process(Sleep, 60_000) { Name = "sleeper" };
        sleeper.Start();
        Console.WriteLine($"started {sleeper.Name} pid={sleeper.Pid}");
        Expect("is_alive after start", sleeper.IsAlive, true);
        Expect("join(timeout=0.2) returned, still alive", sleeper.Join(TimeSpan.FromMilliseconds(200)) == false && sleeper.IsAlive, true);
        sleeper.Terminate();
        sleeper.Join();
        Expect("exitcode after terminate", sleeper.ExitCode, -15);

        var victim = new Process(Sleep, 60_000) { Name = "victim" };
        victim.Start();
        victim.Kill();
        victim.Join();
        Expect("exitcode after kill", victim.ExitCode, -9);

        var quitter = new Process(ExitWith, 3) { Name = "quitter" };
        quitter.Start();
        quitter.Join();
        Expect("exitcode of a target that returns 3", quitter.ExitCode, 3);

        var failing = new Process(Fail, "boom") { Name = "failing" };
        failing.Start();
        failing.Join();
        Expect("exitcode after an unhandled exception (its traceback is on stderr)", failing.ExitCode, 1);

        var daemon = new Process(Sleep, 60_000) { Name = "daemon", Daemon = true };
        daemon.Start();
        Expect("daemon is alive, and ends with this process", daemon.IsAlive && daemon.Daemon, true);

        var done = new Process(Sleep, 0) { Name = "done" };
        done.Start();
        done.Join();
        Expect("exitcode of a target that returns", done.ExitCode, 0);
        Console.WriteLine(failures == 0 ? "lifecycle ok" : $"lifecycle: {failures} step(s) failed");
        return failures == 0 ? 0 : 1;
    }

    public static void Sleep(int milliseconds) => Thread.Sleep(milliseconds);

    public static int ExitWith(int code) => code;

    public static void Fail(string message) => throw new InvalidOperationException(message);
}
