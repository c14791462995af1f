using System.Runtime.InteropServices;

// Unix-domain sockets in a 0700 directory and kill(2): the local broker is for Linux and macOS.
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]

namespace Broker.Transport.Local;

internal static partial class ProcessLiveness
{
    /// <summary>ESRCH, on Linux and macOS alike.</summary>
    private const int NoSuchProcess = 3;

    /// <summary>Whether a process with this pid exists, another user's included: <c>kill</c> with signal 0 checks
    /// without sending anything.</summary>
    public static bool Exists(int pid) => kill(pid, 0) == 0 || Marshal.GetLastPInvokeError() != NoSuchProcess;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}
