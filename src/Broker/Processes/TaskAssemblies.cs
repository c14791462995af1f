using System.Reflection;
using System.Runtime.Loader;

namespace Broker.Processes;

/// <summary>The assemblies holding a user's [PoolTask] methods, given to the host program with <c>--assembly</c>. Their
/// paths travel in <c>BROKER_ASSEMBLIES</c>, which the worker processes inherit, so they resolve the same assemblies
/// (and their neighbours) when a task names one.</summary>
internal static class TaskAssemblies
{
    public const string Variable = "BROKER_ASSEMBLIES";

    public static void Add(IEnumerable<string> paths)
    {
        var all = Paths().Concat(paths.Select(Path.GetFullPath)).Distinct().ToList();
        foreach (var path in all.Where(p => !File.Exists(p)))
        {
            throw new FileNotFoundException($"--assembly {path}: no such file.", path);
        }
        Environment.SetEnvironmentVariable(Variable, string.Join(Path.PathSeparator, all));
        Resolve();
    }

    /// <summary>Lets the runtime find the listed assemblies, and those beside them, by name.</summary>
    public static void Resolve()
    {
        var folders = Paths().Select(Path.GetDirectoryName).Distinct().ToList();
        if (folders.Count == 0)
        {
            return;
        }
        AssemblyLoadContext.Default.Resolving += (context, name) =>
            folders.Select(folder => Path.Combine(folder!, name.Name + ".dll")).Where(File.Exists).Select(context.LoadFromAssemblyPath).FirstOrDefault();
        foreach (var path in Paths())
        {
            Assembly.Load(AssemblyName.GetAssemblyName(path));
        }
    }

    private static IEnumerable<string> Paths() =>
        (Environment.GetEnvironmentVariable(Variable) ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
}
