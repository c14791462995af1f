namespace Broker.Processes;

/// <summary>How a child ended, as Python reports it, in a folder of its own that the launcher makes (mode 0700). .NET
/// reports a child killed by signal N as the exit code 128 + N, the same number a child that exits with 128 + N gives:
/// a child that ends through its normal path writes its code here, so a file says it exited, and no file says a
/// signal ended it.</summary>
internal sealed class ExitStatus(string directory)
{
    /// <summary>The variable that names the folder for a child.</summary>
    public const string Variable = "BROKER_EXIT_STATUS_DIRECTORY";

    private const string FileName = "status";

    /// <summary>Folders are named after the process that made them: <c>broker-child-PID-random</c>.</summary>
    private const string Prefix = "broker-child-";

    private static readonly Lazy<bool> s_swept = new(SweepStale);

    public string Directory { get; } = directory;

    /// <summary>A new folder for one child's status. The first also removes the folders of parents that no longer
    /// exist: a process tree killed at once (SIGKILL to all) leaves no process that could remove them.</summary>
    public static ExitStatus Create()
    {
        _ = s_swept.Value;
        return new(System.IO.Directory.CreateTempSubdirectory($"{Prefix}{Environment.ProcessId}-").FullName);
    }

    /// <summary>This child's folder, or null when its parent named none.</summary>
    public static ExitStatus? OfThisChild() =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } directory ? new(directory) : null;

    public void Write(int code)
    {
        try
        {
            File.WriteAllText(Path.Combine(Directory, FileName), code.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The parent removed the folder (it ended): nobody is left to read the code.
        }
    }

    /// <summary>The code the child wrote, or null if it ended without writing one.</summary>
    public int? Read()
    {
        try
        {
            return int.TryParse(File.ReadAllText(Path.Combine(Directory, FileName)), System.Globalization.CultureInfo.InvariantCulture, out var code) ? code : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool SweepStale()
    {
        foreach (var folder in System.IO.Directory.EnumerateDirectories(Path.GetTempPath(), Prefix + "*"))
        {
            if (Path.GetFileName(folder)[Prefix.Length..].Split('-') is [var pid, _] && int.TryParse(pid, out var parent)
                && parent != Environment.ProcessId && !Native.Exists(parent))
            {
                new ExitStatus(folder).Remove();
            }
        }
        return true;
    }

    public void Remove()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
