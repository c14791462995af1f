using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Broker.Processes;
using Broker.Serialization;
using Microsoft.Extensions.Logging;

namespace Broker;

/// <summary>A child operating-system process that runs a target, like <c>multiprocessing.Process</c>: a static
/// method (or a lambda that captures nothing) with arguments, or the <see cref="Run"/> of a subclass. Queues, locks
/// and values passed as arguments reach the same broker objects in the child.</summary>
public class Process : IAsyncDisposable, IDisposable
{
    private static int s_started;
    private static Process? s_current;
    private static Process? s_parent;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Process, byte> s_children = new();

    private readonly MethodInfo? _method;
    private readonly object? _instance;
    private readonly object?[] _args = [];
    private int? _observedPid;
    private readonly Task? _observedEnd;
    private IChildProcess? _child;
    private BrokerContext? _broker;
    private bool _daemon;
    private bool _closed;

    /// <param name="target">A static method, or a lambda that captures nothing. It may return an <c>int</c>
    /// exit code, or a <c>Task</c>.</param>
    /// <param name="args">The target's arguments; each must serialize as its parameter's type.</param>
    public Process(Delegate target, params object?[] args)
        : this()
    {
        ArgumentNullException.ThrowIfNull(target);
        _method = target.Method;
        _instance = target.Target;
        _args = args ?? [null];
    }

    /// <summary>For a subclass that overrides <see cref="Run"/>. Its public properties travel to the child.</summary>
    protected Process()
    {
        Name = $"Process-{Interlocked.Increment(ref s_started)}";
    }

    private Process(string name, int pid, bool daemon, Task? ended)
    {
        Name = name;
        _observedPid = pid;
        _observedEnd = ended;
        _daemon = daemon;
    }

    internal Process(MethodInfo method, object? instance, object?[] args, string name, bool daemon)
    {
        _method = method;
        _instance = instance;
        _args = args;
        Name = name;
        _daemon = daemon;
    }

    /// <summary>A name for messages; <c>Process-N</c> by default.</summary>
    [JsonIgnore]
    public string Name { get; set; }

    /// <summary>A daemon child ends when its parent ends, however the parent ends; the parent does not wait for it at
    /// exit. Set it before <see cref="Start"/>.</summary>
    [JsonIgnore]
    public bool Daemon
    {
        get => _daemon;
        set
        {
            ThrowIfStarted("Daemon");
            _daemon = value;
        }
    }

    /// <summary>The broker the child uses; <see cref="BrokerContext.Default"/> by default. Set it before <see cref="Start"/>.</summary>
    [JsonIgnore]
    public BrokerContext Context
    {
        get => _broker ?? BrokerContext.Default;
        set
        {
            ThrowIfStarted("Context");
            _broker = value;
        }
    }

    /// <summary>The operating system's process id, once started.</summary>
    [JsonIgnore]
    public int? Pid => _observedPid ?? _child?.Pid;

    /// <summary>Null while the process runs (or before it starts); then 0, the target's own code, 1 after an
    /// unhandled exception, or minus the signal that ended it (-15 after <see cref="Terminate"/>, -9 after <see cref="Kill"/>).</summary>
    [JsonIgnore]
    public int? ExitCode => _child?.ExitCode;

    /// <summary>Python's <c>is_alive()</c>: started and not yet ended. This process is alive; its parent is, until the
    /// child sees it end.</summary>
    /// <exception cref="InvalidOperationException">The handle was closed (Python's ValueError).</exception>
    [JsonIgnore]
    public bool IsAlive
    {
        get
        {
            ThrowIfClosed();
            return _observedPid is { } pid
                ? pid == Environment.ProcessId || _observedEnd is { IsCompleted: false }
                : _child is { HasExited: false };
        }
    }

    /// <summary>This process, as its parent started it (<c>MainProcess</c> in the first one).</summary>
    public static Process CurrentProcess() =>
        s_current ??= new Process("MainProcess", Environment.ProcessId, daemon: false, ended: null);

    /// <summary>The process that started this one, or null in the first one. It can be joined: the join returns
    /// when the parent ends.</summary>
    public static Process? ParentProcess() => s_parent;

    /// <summary>Python's <c>active_children()</c>: this process's children that were started and have not ended.</summary>
    public static IReadOnlyList<Process> ActiveChildren()
    {
        foreach (var child in s_children.Keys.Where(child => child._closed || child._child is { HasExited: true }))
        {
            s_children.TryRemove(child, out _);
        }
        return [.. s_children.Keys];
    }

    /// <summary>Runs the target in the calling process; a subclass overrides it. The child calls it.</summary>
    public virtual void Run() => InvokeTarget();

    /// <summary>Starts the child. Fails here, not in the child, if the target or an argument cannot travel.</summary>
    /// <exception cref="ProcessStartException">The target cannot run in a child, or no launcher is installed.</exception>
    /// <exception cref="BrokerSerializationException">An argument cannot be serialized.</exception>
    public async ValueTask StartAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfStarted("Start");
        var spec = HandlesWritten.Write(static process => process.Describe().ToJson(), this, out var uncreated);
        await HandlesWritten.CreateAsync(uncreated, cancellationToken).ConfigureAwait(false);
        var url = await Context.ShareAsync(cancellationToken).ConfigureAwait(false);
        var launcher = Transport.Installed.Launcher()
            ?? throw new ProcessStartException("Starting a process needs the Broker package, which installs the launcher of child processes: add a PackageReference to Broker.");
        ThrowIfStarted("Start");
        _child = launcher.Start(new ChildStart(Name, Daemon, Context.Options.ForChild(url), spec));
        s_children.TryAdd(this, 0);
        foreach (var connection in _args.OfType<Connection>())
        {
            _ = AbandonWhenEndedAsync(_child, connection);
        }
    }

    /// <summary>A pipe's end this child was given and never took (it died as it started) is gone once the child is.</summary>
    private static async Task AbandonWhenEndedAsync(IChildProcess child, Connection connection)
    {
        await child.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            await connection.AbandonIfUnclaimedAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is BrokerException or ObjectDisposedException)
        {
            connection.Context.Logger.LogDebug("Could not mark end {End} of pipe {Pipe} abandoned by its ended child: {Reason}", connection.End, connection.Name, e.Message);
        }
    }

    /// <summary>Python's <c>start()</c>.</summary>
    public void Start() => Sync.Run(StartAsync());

    /// <summary>Waits for the process to end; false if <paramref name="timeout"/> (null: without limit) passed first.
    /// As in Python, a negative timeout waits not at all (<see cref="Timeout.InfiniteTimeSpan"/> still waits for ever).
    /// The parent process (<see cref="ParentProcess"/>) can be joined too.</summary>
    /// <exception cref="InvalidOperationException">The process was never started, is this process, or was closed.</exception>
    public async ValueTask<bool> JoinAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        var ended = _child?.WaitForExitAsync(cancellationToken)
            ?? _observedEnd
            ?? throw new InvalidOperationException(_observedPid == Environment.ProcessId
                ? $"{Name} is this process: it cannot join itself."
                : $"{Name} can only be joined once started.");
        var limit = timeout is { } t && t < TimeSpan.Zero && t != Timeout.InfiniteTimeSpan ? TimeSpan.Zero : Timeouts.From(timeout);
        try
        {
            await ended.WaitAsync(limit, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Python's <c>join(timeout=None)</c>, returning whether the process ended.</summary>
    public bool Join(TimeSpan? timeout = null) => Sync.Run(JoinAsync(timeout));

    /// <summary>Sends SIGTERM; the child's shutdown runs and <see cref="ExitCode"/> becomes -15.</summary>
    public void Terminate() => Started().Terminate();

    /// <summary>Sends SIGKILL; <see cref="ExitCode"/> becomes -9.</summary>
    public void Kill() => Started().Kill();

    /// <summary>Releases what the handle holds, Python's <c>close()</c>; a second call does nothing. Afterwards
    /// <see cref="IsAlive"/>, <see cref="Join"/>, <see cref="Terminate"/> and <see cref="Kill"/> raise, as in Python;
    /// <see cref="ExitCode"/> stays readable.</summary>
    /// <exception cref="InvalidOperationException">The process is still running.</exception>
    public void Close()
    {
        if (_closed)
        {
            return;
        }
        if (_child is { HasExited: false })
        {
            throw new InvalidOperationException($"{Name} is still running: join, terminate or kill it before Close().");
        }
        _closed = true;
        s_children.TryRemove(this, out _);
        _child?.Dispose();
    }

    /// <summary>Terminates the process if it still runs (killing it if it does not end within five seconds),
    /// waits for it, and releases the handle.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_closed)
        {
            return;
        }
        if (_child is { HasExited: false } child)
        {
            child.Terminate();
            if (!await JoinAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false))
            {
                child.Kill();
                await JoinAsync().ConfigureAwait(false);
            }
        }
        _closed = true;
        s_children.TryRemove(this, out _);
        _child?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Terminates the process if it still runs and reaps it; see <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => Sync.Run(DisposeAsync());

    /// <inheritdoc/>
    public override string ToString() =>
        $"<{GetType().Name} name='{Name}' {(_closed ? "closed" : ExitCode is { } code ? $"exitcode={code}" : IsAlive ? "started" : "initial")}{(Daemon ? " daemon" : "")}>";

    /// <summary>Makes <paramref name="current"/> this child's own process, with this pid, and <paramref name="parent"/>
    /// its parent's.</summary>
    internal static void SetIdentity(Process current, Process? parent)
    {
        current._observedPid = Environment.ProcessId;
        s_current = current;
        s_parent = parent;
    }

    /// <summary>Another process this one did not start: its parent, which has ended once <paramref name="ended"/> has.</summary>
    internal static Process Observed(string name, int pid, Task ended) => new(name, pid, daemon: false, ended);

    /// <summary>Runs the target and returns the exit code the child should end with.</summary>
    internal int RunForExitCode()
    {
        if (GetType().GetMethod(nameof(Run))!.DeclaringType != typeof(Process))
        {
            Run();
            return 0;
        }
        return InvokeTarget();
    }

    private int InvokeTarget()
    {
        if (_method is null)
        {
            return 0;
        }
        return Invocation.Run(_method, _instance, _args) is int code ? code : 0;
    }

    private ProcessSpec Describe()
    {
        var parent = CurrentProcess();
        if (_method is null)
        {
            var type = GetType();
            if (type == typeof(Process) || type.GetMethod(nameof(Run))!.DeclaringType == typeof(Process))
            {
                throw new ProcessStartException($"{Name} has nothing to run: give it a target, or subclass Process and override Run().");
            }
            var state = Context.Serializer.ToElement(this, type, $"the state of {type.Name}");
            Context.Serializer.FromElement(state, type, $"the state of {type.Name}");
            return new ProcessSpec(Name, Daemon, Environment.ProcessId, parent.Name, null, null, type.AssemblyQualifiedName, state);
        }

        var target = TargetReference.Of(_method, _instance);
        var parameters = _method.GetParameters();
        if (parameters.Length != _args.Length)
        {
            throw new ProcessStartException(
                $"The target {TargetReference.Describe(_method)} takes {parameters.Length} argument(s), but {_args.Length} were given.");
        }
        var args = new JsonElement[parameters.Length];
        for (var i = 0; i < parameters.Length; i++)
        {
            var what = $"argument {i} ('{parameters[i].Name}') of {TargetReference.Describe(_method)}";
            if (_args[i] is { } arg && !parameters[i].ParameterType.IsInstanceOfType(arg))
            {
                throw new ProcessStartException($"{char.ToUpperInvariant(what[0])}{what[1..]} is a {arg.GetType()}, not a {parameters[i].ParameterType}.");
            }
            args[i] = Context.Serializer.ToElement(_args[i], parameters[i].ParameterType, what);
            // Read it back now: an argument the child could not rebuild fails here, in the parent, with its name.
            Context.Serializer.FromElement(args[i], parameters[i].ParameterType, what);
        }
        return new ProcessSpec(Name, Daemon, Environment.ProcessId, parent.Name, target, args, null, null);
    }

    private IChildProcess Started()
    {
        ThrowIfClosed();
        return _child ?? throw new InvalidOperationException($"{Name} has not been started.");
    }

    private void ThrowIfClosed()
    {
        if (_closed)
        {
            throw new InvalidOperationException($"{Name} is closed.");
        }
    }

    private void ThrowIfStarted(string what)
    {
        if (_child is not null || _closed || _observedPid is not null)
        {
            throw new InvalidOperationException($"{what}: {Name} has already been started; a process starts once.");
        }
    }
}
