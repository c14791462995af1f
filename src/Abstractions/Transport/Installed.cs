using Broker.Processes;

namespace Broker.Transport;

/// <summary>The transports and the process launcher an application's packages install. Each package's build file
/// (<c>buildTransitive/PACKAGE.targets</c>) writes one runtime setting per URL scheme into the application's
/// <c>runtimeconfig.json</c>, <c>Broker.Transport.SCHEME</c> = the factory's assembly-qualified type name, and the core
/// package writes <c>Broker.ProcessLauncher</c>. A child starts with its parent's runtimeconfig, so it finds the same
/// ones; nothing scans assemblies, so a single-file application finds them too.</summary>
internal static class Installed
{
    /// <summary>The prefix of the setting that names the factory serving a scheme.</summary>
    public const string TransportSettingPrefix = "Broker.Transport.";

    /// <summary>The setting that names the launcher of child processes.</summary>
    public const string LauncherSetting = "Broker.ProcessLauncher";

    /// <summary>The factory installed for <paramref name="scheme"/>, or null if no package installs one.</summary>
    public static ITransportFactory? Transport(string scheme) => Create<ITransportFactory>(TransportSettingPrefix + scheme);

    /// <summary>The installed launcher, or null if the core package is not part of the application.</summary>
    public static IProcessLauncher? Launcher() => s_launcher.Value;

    private static readonly Lazy<IProcessLauncher?> s_launcher = new(() => Create<IProcessLauncher>(LauncherSetting));

    private static T? Create<T>(string setting) where T : class
    {
        if (AppContext.GetData(setting) is not string typeName)
        {
            return null;
        }
        // A setting whose assembly is not in the application (a build file imported without its package) installs nothing.
        var type = Type.GetType(typeName, throwOnError: false);
        if (type is null)
        {
            return null;
        }
        return Activator.CreateInstance(type, nonPublic: true) as T
            ?? throw new BrokerException($"The runtime setting {setting} names {typeName}, which is not an {typeof(T).Name}.");
    }
}
