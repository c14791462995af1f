namespace Broker.Processes;

/// <summary>A child's entry point: the launcher starts <c>dotnet exec</c> on this assembly with the application's own
/// dependency and runtime files (see <see cref="LocalLauncher"/>).</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args is [ChildHost.Flag])
        {
            return ChildHost.Run();
        }
        Console.Error.WriteLine($"Broker.dll is a library: applications reference the Broker package, and its launcher runs this file with {ChildHost.Flag} to start a child process.");
        return 2;
    }
}
