using System.Reflection;
using Broker.Transport;

namespace Broker;

/// <summary>Finds the transports and launcher installed with the application: every <c>Broker.*.dll</c> among its
/// dependencies is read for <see cref="BrokerComponentAttribute"/>, so a URL in configuration is enough to select one.</summary>
internal static class Components
{
    private static readonly Lazy<IReadOnlyList<object>> s_found = new(Scan);

    public static IEnumerable<T> OfType<T>() => s_found.Value.OfType<T>();

    private static List<object> Scan()
    {
        var assemblies = new Dictionary<string, Assembly>(StringComparer.OrdinalIgnoreCase);
        foreach (var loaded in AppDomain.CurrentDomain.GetAssemblies())
        {
            assemblies.TryAdd(loaded.GetName().Name ?? "", loaded);
        }
        // The runtime's list of the application's assemblies, by path: reading it costs a child's start nothing, where
        // listing the folder and reading each file's name cost it a tenth.
        var trusted = AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? "";
        foreach (var path in trusted.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var name = Path.GetFileNameWithoutExtension(path);
            if (name.StartsWith("Broker.", StringComparison.Ordinal) && path.EndsWith(".dll", StringComparison.Ordinal) && !assemblies.ContainsKey(name))
            {
                assemblies[name] = Assembly.Load(new AssemblyName(name));
            }
        }
        return assemblies.Values
            .SelectMany(a => a.GetCustomAttributes<BrokerComponentAttribute>())
            .Select(a => Activator.CreateInstance(a.ComponentType)!)
            .ToList();
    }
}
