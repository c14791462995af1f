using System.Runtime.InteropServices;

// Signals, process groups and pipes: the launcher is for Linux and macOS.
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]

namespace Broker.WorkerHost;

internal static partial class Native
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    /// <summary>ESRCH, on Linux and macOS alike.</summary>
    private const int NoSuchProcess = 3;

    /// <summary>Sends a signal; false if the process is already gone.</summary>
    public static bool Signal(int pid, int signal) => kill(pid, signal) == 0;

    /// <summary>Whether a process with this pid exists, another user's included: signal 0 checks without sending.</summary>
    public static bool Exists(int pid) => kill(pid, 0) == 0 || Marshal.GetLastPInvokeError() != NoSuchProcess;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}
