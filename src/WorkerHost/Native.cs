using System.Runtime.InteropServices;

// Signals, process groups and pipes: the launcher is for Linux and macOS.
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]

namespace Broker.WorkerHost;

internal static partial class Native
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    /// <summary>Sends a signal; false if the process is already gone.</summary>
    public static bool Signal(int pid, int signal) => kill(pid, signal) == 0;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}
