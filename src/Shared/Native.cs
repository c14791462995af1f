using System.Runtime.InteropServices;

// Signals, process groups, pipes and Unix-domain sockets: Broker's processes and local broker are for Linux and macOS.
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]

namespace Broker;

/// <summary>The system calls .NET does not offer: kill(2), which the launcher and the local broker both make, and a
/// send(2) that never waits. Compiled into each assembly from this one file, so neither depends on the other for it.</summary>
internal static partial class Native
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    /// <summary>ESRCH, on Linux and macOS alike.</summary>
    private const int NoSuchProcess = 3;

    /// <summary>Sends a signal; false if the process is already gone.</summary>
    public static bool Signal(int pid, int signal) => kill(pid, signal) == 0;

    /// <summary>Whether a process with this pid exists, another user's included: signal 0 checks without sending, and
    /// reads nothing from <c>/proc</c>, which macOS does not have.</summary>
    public static bool Exists(int pid) => kill(pid, 0) == 0 || Marshal.GetLastPInvokeError() != NoSuchProcess;

    /// <summary>Sends what the socket's buffer takes now, without waiting for room, on a socket that is otherwise
    /// blocking: the count sent, 0 if the buffer is full, -1 if the connection is gone.</summary>
    public static unsafe int SendNow(nint socket, ReadOnlySpan<byte> bytes)
    {
        var dontWait = OperatingSystem.IsMacOS() ? 0x80 : 0x40;
        fixed (byte* start = bytes)
        {
            while (true)
            {
                var sent = send(socket, start, bytes.Length, dontWait);
                if (sent >= 0)
                {
                    return (int)sent;
                }
                var error = Marshal.GetLastPInvokeError();
                if (error != Interrupted)
                {
                    return error == (OperatingSystem.IsMacOS() ? WouldBlockMacOS : WouldBlockLinux) ? 0 : -1;
                }
            }
        }
    }

    /// <summary>EINTR, on Linux and macOS alike.</summary>
    private const int Interrupted = 4;

    // EAGAIN, which differs: the socket's buffer is full.
    private const int WouldBlockLinux = 11;
    private const int WouldBlockMacOS = 35;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint send(nint socket, byte* buffer, nint length, int flags);
}
