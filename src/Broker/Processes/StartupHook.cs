using Broker.Processes;

/// <summary>How a single-file application becomes a child: the launcher runs the application's own executable with
/// this assembly as a .NET startup hook, and the hook runs the child before the application's <c>Main</c> would, then
/// exits. The runtime calls <see cref="Initialize"/> by this type's name, in no namespace.</summary>
/// <remarks>The child exits when its target returns, without waiting for foreground threads the target started; a
/// child started on Broker.dll does not: there the runtime waits for them, as Python joins its non-daemon threads.</remarks>
internal static class StartupHook
{
    private const string HooksVariable = "DOTNET_STARTUP_HOOKS";
    private const string ChildVariable = "BROKER_CHILD";

    /// <summary>The environment that makes a single-file application a child: this assembly as one more startup hook.</summary>
    internal static (string Name, string Value)[] Install()
    {
        var hooks = Environment.GetEnvironmentVariable(HooksVariable);
        var name = typeof(StartupHook).Assembly.GetName().Name!;
        return [(HooksVariable, hooks is { Length: > 0 } ? hooks + Path.PathSeparator + name : name), (ChildVariable, "1")];
    }

    public static void Initialize()
    {
        if (Environment.GetEnvironmentVariable(ChildVariable) != "1")
        {
            return;
        }
        // What the child starts itself is not a child unless its own launcher says so.
        Environment.SetEnvironmentVariable(ChildVariable, null);
        var name = typeof(StartupHook).Assembly.GetName().Name!;
        var others = (Environment.GetEnvironmentVariable(HooksVariable) ?? "").Split(Path.PathSeparator).Where(h => h != name);
        Environment.SetEnvironmentVariable(HooksVariable, string.Join(Path.PathSeparator, others) is { Length: > 0 } kept ? kept : null);
        Environment.Exit(ChildHost.Run());
    }
}
