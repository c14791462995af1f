using System.Runtime.InteropServices;


namespace Broker.Processes;

/// <summary>The child's side: reads the spec from standard input, watches that input as its lifeline, turns SIGTERM
/// into an orderly exit, runs the target, and reports how it ended.</summary>
internal static class ChildHost
{
    public const string Flag = "--child";

    /// <summary>The line a parent writes on the lifeline before it closes it on purpose, alive: the end of the
    /// lifeline without it means the parent died.</summary>
    public const string Released = "released";

    /// <summary>What a child exits with after SIGTERM, so that its parent reports -15.</summary>
    private const int TerminatedExitCode = 128 + Native.SIGTERM;

    private static readonly TaskCompletionSource s_parentEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private static PosixSignalRegistration? s_terminate;
    private static int s_closed;
    private static volatile bool s_terminated;

    /// <summary>Whether SIGTERM is ending this child.</summary>
    public static bool Terminated => s_terminated;

    public static int Run()
    {
        TaskAssemblies.Resolve();
        // The default context needs only BROKER_URL, and finding its transport takes a while: it is built while the spec
        // is read. Should it fail, the target's first use of it raises the same error again.
        _ = Task.Run(() => BrokerContext.Default);
        var input = new StreamReader(Console.OpenStandardInput());
        var line = input.ReadLine();
        if (string.IsNullOrWhiteSpace(line))
        {
            Console.Error.WriteLine("Broker.WorkerHost --child reads its process spec from standard input; none came.");
            return 2;
        }
        var spec = ProcessSpec.FromJson(line);
        var status = ExitStatus.OfThisChild();
        WatchLifeline(input, spec.Daemon, RuntimeFiles.Of(spec.ParentPid), status);
        // The runtime's own SIGTERM handling exits without running shutdown handlers; Python's children run none
        // either, but ours give back what they hold on the broker (a pool task in flight, a lock) and terminate their
        // own daemon children first. It stays registered while the runtime waits for the target's threads.
        s_terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            ThreadPool.QueueUserWorkItem(_ =>
            {
                ChildRuntime.Terminating();
                s_terminated = true;
                Environment.Exit(TerminatedExitCode);
            });
        });
        // After Main returns the runtime waits for the foreground threads the target started, as Python joins its
        // non-daemon threads, and only then raises ProcessExit: the broker stays open for those threads until then.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            if (!s_parentEnded.Task.IsCompleted)
            {
                status?.Write(s_terminated ? -Native.SIGTERM : Environment.ExitCode);
            }
            Sync.ProcessExiting = true;
            ChildRuntime.Ending();
            CloseBroker();
        };
        var exitCode = ChildRuntime.Run(spec, Console.Error, s_parentEnded.Task);
        Console.Out.Flush();
        Environment.ExitCode = exitCode;
        return exitCode;
    }

    private static void CloseBroker()
    {
        if (Interlocked.Exchange(ref s_closed, 1) == 0)
        {
            BrokerContext.DisposeDefaultAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
        }
    }

    /// <summary>The parent holds the other end of standard input; the kernel closes it when the parent ends, even by
    /// SIGKILL. A daemon child then ends at once, as the .NET runtime cannot tie a child's life to its parent's. The
    /// files of a parent that was killed are left behind: the child removes them, and its own before it kills itself.</summary>
    private static void WatchLifeline(StreamReader input, bool daemon, RuntimeFiles parentFiles, ExitStatus? status)
    {
        var watcher = new Thread(() =>
        {
            var released = false;
            try
            {
                while (input.ReadLine() is { } line)
                {
                    released |= line == Released;
                }
            }
            catch (IOException)
            {
            }
            if (!released)
            {
                // Before the parent's end is told: a target waiting for it may then return and this process exit,
                // which would end this thread before it removed the dead parent's files.
                parentFiles.Remove();
                status?.Remove();
                s_parentEnded.TrySetResult();
            }
            if (daemon)
            {
                RuntimeFiles.Of(Environment.ProcessId).Remove();
                Native.Signal(Environment.ProcessId, Native.SIGKILL);
            }
        })
        {
            IsBackground = true,
            Name = "Broker parent lifeline",
        };
        watcher.Start();
    }
}
