namespace Broker.Processes;

/// <summary>The .NET runtime's files of one process in the temporary folder: its diagnostics socket and its debugger's
/// two pipes. The runtime removes them when the process exits, and leaves them behind when a signal kills it: the
/// process that sees such an end removes them instead.</summary>
internal readonly record struct RuntimeFiles(int Pid, string Key)
{
    /// <summary>The files of the running process <paramref name="pid"/>. The runtime names them by pid and by a key that
    /// tells processes with the same pid apart: on Linux its start time, the 22nd field of <c>/proc/PID/stat</c>.
    /// Where that cannot be read, any key of that pid.</summary>
    public static RuntimeFiles Of(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) is in parentheses and may hold spaces: fields are counted after it.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return new(pid, fields[22 - 3]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return new(pid, "*");
        }
    }

    /// <summary>Removes the files, once the process is gone; a file already gone, or not ours to remove, is left.</summary>
    public void Remove()
    {
        foreach (var pattern in (string[])[$"clr-debug-pipe-{Pid}-{Key}-in", $"clr-debug-pipe-{Pid}-{Key}-out", $"dotnet-diagnostic-{Pid}-{Key}-socket"])
        {
            try
            {
                foreach (var file in Directory.EnumerateFiles(Path.GetTempPath(), pattern))
                {
                    File.Delete(file);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }
}
