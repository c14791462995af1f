using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Broker.Processes;

/// <summary>Starts each child as this application run again on Broker.dll (<c>dotnet exec</c> with the application's
/// own dependency and runtime files), so the child loads the very assemblies the parent has, as Python's spawn
/// re-imports the main module; a single-file application is run again itself, and <see cref="StartupHook"/> turns it
/// into the child before its <c>Main</c>. The child's standard input is its lifeline: it carries the spec, then
/// stays open, and its end tells a daemon child that its parent is gone, however the parent ended.</summary>
internal sealed class LocalLauncher : IProcessLauncher
{
    private static readonly ConcurrentDictionary<int, ChildProcess> s_running = new();
    private static readonly Lazy<(string Host, string[] Arguments, (string Name, string Value)[] Environment)> s_command = new(ResolveCommand);
    private static int s_exitHooked;

    public IChildProcess Start(ChildStart start)
    {
        var (host, arguments, environment) = s_command.Value;
        var info = new ProcessStartInfo(host)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }
        foreach (var (name, value) in start.Environment)
        {
            info.Environment[name] = value;
        }
        var status = ExitStatus.Create();
        info.Environment[ExitStatus.Variable] = status.Directory;
        // Dynamic PGO first runs each hot method in an instrumented tier, which kept a fresh pool worker at half its
        // speed for its first ten thousand tasks; a child does not live long enough to earn that back. Start-up is
        // not slower without it. A user's own setting, inherited, wins.
        info.Environment.TryAdd("DOTNET_TieredPGO", "0");
        if (Interlocked.Exchange(ref s_exitHooked, 1) == 0)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) => EndChildrenAtExit();
        }

        System.Diagnostics.Process process;
        try
        {
            process = System.Diagnostics.Process.Start(info)
                ?? throw new ProcessStartException($"{start.Name} did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            status.Remove();
            throw new ProcessStartException($"{start.Name} could not start {host}: {e.Message}", e);
        }
        var child = new ChildProcess(process, start.Daemon, RuntimeFiles.Of(process.Id), status);
        s_running[process.Id] = child;
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => child.Reaped();
        if (process.HasExited)
        {
            child.Reaped();
        }
        child.Send(start.Spec);
        return child;
    }

    internal static void Forget(int pid) => s_running.TryRemove(pid, out _);

    /// <summary>Python's exit handler: daemon children are terminated, the others are waited for, unless this process
    /// is a child that was terminated: a terminated Python process ends at once and waits for nobody. The exit codes of
    /// the children it does not wait for will not be read: their folders go now.</summary>
    private static void EndChildrenAtExit()
    {
        foreach (var child in s_running.Values.Where(c => c.Daemon))
        {
            child.Terminate();
            child.Abandon();
        }
        foreach (var child in s_running.Values.Where(c => !c.Daemon))
        {
            if (ChildHost.Terminated)
            {
                child.Abandon();
            }
            else
            {
                child.WaitForExitAsync(CancellationToken.None).GetAwaiter().GetResult();
            }
        }
    }

    private static (string Host, string[] Arguments, (string, string)[] Environment) ResolveCommand()
    {
        if (typeof(LocalLauncher).Assembly.Location.Length == 0)
        {
            // Bundled in a single-file application: there is no Broker.dll on disk to run, only the application.
            return (Environment.ProcessPath!, [], StartupHook.Install());
        }
        var dependencies = (AppContext.GetData("APP_CONTEXT_DEPS_FILES") as string)?.Split(';').FirstOrDefault(f => f.Length > 0);
        if (dependencies is null || !File.Exists(dependencies))
        {
            throw new ProcessStartException(
                "This application has no .deps.json file, which a child process needs to load the same assemblies; " +
                "run it with 'dotnet run', 'dotnet App.dll', its apphost, or publish it as a single file.");
        }
        var runtimeConfig = dependencies[..^".deps.json".Length] + ".runtimeconfig.json";
        if (!File.Exists(runtimeConfig))
        {
            throw new ProcessStartException($"{runtimeConfig} is missing: a child process needs it to start the same runtime.");
        }
        var dotnetRoot = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var host = Path.Combine(dotnetRoot, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        return (host, ["exec", "--depsfile", dependencies, "--runtimeconfig", runtimeConfig, typeof(LocalLauncher).Assembly.Location, ChildHost.Flag], []);
    }
}

/// <summary>A started child. .NET reaps it when it exits; this turns its status into Python's exit code.</summary>
internal sealed class ChildProcess(System.Diagnostics.Process process, bool daemon, RuntimeFiles files, ExitStatus status) : IChildProcess
{
    private readonly System.Threading.Lock _reaping = new();
    private readonly System.Threading.Lock _lifeline = new();
    private int? _exitCode;
    private bool _lifelineClosed;

    /// <summary>Once the child is reaped: its exit code is read, its lifeline closes at once rather than at the handle's
    /// disposal or a collection, and the files that a killed child could not remove go.</summary>
    public void Reaped()
    {
        lock (_reaping)
        {
            if (_exitCode is not null)
            {
                return;
            }
            // The code the child wrote when it exited, else the signal .NET reports as 128 + N.
            _exitCode = status.Read() ?? (process.ExitCode is > 128 and < 128 + 65 and var code ? -(code - 128) : process.ExitCode);
        }
        status.Remove();
        LocalLauncher.Forget(Pid);
        CloseLifeline(released: false);
        if (_exitCode < 0)
        {
            files.Remove();
        }
    }

    public bool Daemon { get; } = daemon;

    public int Pid { get; } = process.Id;

    public bool HasExited => _exitCode is not null || process.HasExited;

    /// <summary>As Python reports it: the child's own code, or minus the signal that ended it.</summary>
    public int? ExitCode
    {
        get
        {
            if (_exitCode is null && process.HasExited)
            {
                Reaped();
            }
            return _exitCode;
        }
    }

    /// <summary>Waits for the child to end, and reaps it: a parent that ends right after a join does not wait for the
    /// Exited event, which would reap it too.</summary>
    public async Task WaitForExitAsync(CancellationToken cancellationToken)
    {
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        Reaped();
    }

    /// <summary>Removes the folder of a child whose exit code this process will not read, as it ends first.</summary>
    public void Abandon() => status.Remove();

    public void Terminate()
    {
        if (!process.HasExited)
        {
            Native.Signal(Pid, Native.SIGTERM);
        }
    }

    public void Kill()
    {
        if (!process.HasExited)
        {
            Native.Signal(Pid, Native.SIGKILL);
        }
    }

    /// <summary>Releases the lifeline and the handle; the exit code stays readable.</summary>
    public void Dispose()
    {
        _ = ExitCode;
        CloseLifeline(released: !process.HasExited);
        process.Dispose();
    }

    /// <summary>Writes a line on the lifeline, unless the child was reaped already; a child that ended before reading
    /// it says so with its exit code.</summary>
    public void Send(string line)
    {
        lock (_lifeline)
        {
            if (_lifelineClosed)
            {
                return;
            }
            try
            {
                process.StandardInput.WriteLine(line);
                process.StandardInput.Flush();
            }
            catch (IOException)
            {
                // The child ended before reading it.
            }
        }
    }

    /// <summary>Closes the lifeline once, from the thread that reaps the child or the one that disposes its handle,
    /// whichever comes first; <paramref name="released"/> tells a running child that its parent lets go alive.</summary>
    private void CloseLifeline(bool released)
    {
        lock (_lifeline)
        {
            if (_lifelineClosed)
            {
                return;
            }
            _lifelineClosed = true;
            try
            {
                if (released)
                {
                    process.StandardInput.WriteLine(ChildHost.Released);
                }
                process.StandardInput.Dispose();
            }
            catch (IOException)
            {
                // A write to a pipe whose reader ended; the descriptor is closed all the same.
            }
        }
    }
}
