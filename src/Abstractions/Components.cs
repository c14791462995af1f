using System.Reflection;
using Broker.Transport;

namespace Broker;

/// <summary>Finds the transports and launcher installed beside the application: every <c>Broker.*.dll</c> in its
/// folder is read for <see cref="BrokerComponentAttribute"/>, so a URL in configuration is enough to select one.</summary>
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
        foreach (var path in Directory.EnumerateFiles(AppContext.BaseDirectory, "Broker.*.dll"))
        {
            var name = AssemblyName.GetAssemblyName(path);
            if (!assemblies.ContainsKey(name.Name ?? ""))
            {
                assemblies[name.Name ?? ""] = Assembly.Load(name);
            }
        }
        return assemblies.Values
            .SelectMany(a => a.GetCustomAttributes<BrokerComponentAttribute>())
            .Select(a => Activator.CreateInstance(a.ComponentType)!)
            .ToList();
    }
}
