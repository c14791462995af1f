namespace Broker.WorkerHost;

/// <summary>How a child ended, as Python reports it, in a folder of its own that the launcher makes (mode 0700). .NET
/// reports a child killed by signal N as the exit code 128 + N, the same number a child that exits with 128 + N gives:
/// a child that ends through its normal path writes its code here, so a file says it exited, and no file says a
/// signal ended it.</summary>
internal sealed class ExitStatus(string directory)
{
    /// <summary>The variable that names the folder for a child.</summary>
    public const string Variable = "BROKER_EXIT_STATUS_DIRECTORY";

    private const string FileName = "status";

    public string Directory { get; } = directory;

    /// <summary>A new folder for one child's status.</summary>
    public static ExitStatus Create() => new(System.IO.Directory.CreateTempSubdirectory("broker-child-").FullName);

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
