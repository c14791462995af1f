namespace Broker.Processes;

/// <summary>Starts operating-system processes that run a <see cref="Process"/>'s target. The Broker package installs
/// the one applications use, through the runtime setting <c>Broker.ProcessLauncher</c>.</summary>
public interface IProcessLauncher
{
    /// <summary>Starts a child with <see cref="ChildStart.Environment"/> added to this process's environment; the child
    /// reads <see cref="ChildStart.Spec"/>.</summary>
    IChildProcess Start(ChildStart start);
}

/// <summary>What a launcher needs to start one child.</summary>
/// <param name="Name">The process's name, for messages.</param>
/// <param name="Daemon">A daemon child ends when its parent ends, however the parent ends.</param>
/// <param name="Environment">The variables that give the child its parent's configuration (see
/// <see cref="BrokerOptions.FromEnvironment"/>): the broker's URL, which may carry credentials and never goes to a log,
/// the log level, the serializer options' factory.</param>
/// <param name="Spec">The target and its arguments, opaque to the launcher.</param>
public sealed record ChildStart(string Name, bool Daemon, IReadOnlyDictionary<string, string> Environment, string Spec);

/// <summary>A started child, reaped by its launcher.</summary>
public interface IChildProcess : IDisposable
{
    /// <summary>The child's process id.</summary>
    int Pid { get; }

    /// <summary>Whether the child has ended.</summary>
    bool HasExited { get; }

    /// <summary>As Python reports it: the child's own code, or minus the signal number that ended it; null while it runs.</summary>
    int? ExitCode { get; }

    /// <summary>Completes when the child has ended and was reaped.</summary>
    Task WaitForExitAsync(CancellationToken cancellationToken);

    /// <summary>Sends SIGTERM: the child's shutdown runs.</summary>
    void Terminate();

    /// <summary>Sends SIGKILL.</summary>
    void Kill();
}
