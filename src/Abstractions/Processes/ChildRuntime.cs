namespace Broker.Processes;

/// <summary>The child's side of <see cref="Process"/>: rebuilds the target from the spec its parent sent and runs it,
/// turning the outcome into the exit code Python would give.</summary>
internal static class ChildRuntime
{
    private static volatile bool s_terminating;
    private static IDisposable? s_started;

    /// <summary>Set when SIGTERM is shutting the child down: what the target raises from then on (its broker closing
    /// under it) is the shutdown, not a crash, and is not printed.</summary>
    public static void Terminating() => s_terminating = true;

    /// <summary>Disposes what <see cref="BrokerOptions.ChildStartup"/> returned, once, as the child ends: an exporter
    /// then sends what it holds.</summary>
    public static void Ending() => Interlocked.Exchange(ref s_started, null)?.Dispose();

    /// <param name="spec">What the parent sent.</param>
    /// <param name="stderr">Where a failure is printed.</param>
    /// <param name="parentEnded">Completes when the parent process ends.</param>
    public static int Run(ProcessSpec spec, TextWriter stderr, Task parentEnded)
    {
        Process process;
        try
        {
            s_started = BrokerContext.Default.Options.ChildStartup?.Invoke();
            process = Rebuild(spec);
        }
        catch (Exception e)
        {
            stderr.WriteLine($"Process {spec.Name} could not start: {e}");
            return 1;
        }
        Process.SetIdentity(process, Process.Observed(spec.ParentName, spec.ParentPid, parentEnded));
        try
        {
            return process.RunForExitCode();
        }
        catch (Exception) when (s_terminating)
        {
            return 1;
        }
        catch (Exception e)
        {
            // Python prints "Process Name:" and the traceback, and the exit code is 1.
            stderr.WriteLine($"Process {spec.Name}:");
            stderr.WriteLine(e.ToString());
            return 1;
        }
    }

    private static Process Rebuild(ProcessSpec spec)
    {
        var serializer = BrokerContext.Default.Serializer;
        if (spec.Target is { } target)
        {
            var method = target.Resolve();
            var instance = TargetReference.InstanceFor(method);
            var parameters = method.GetParameters();
            var args = new object?[parameters.Length];
            for (var i = 0; i < parameters.Length; i++)
            {
                args[i] = Connection.ClaimedIfEnd(serializer.FromElement(spec.Args![i], parameters[i].ParameterType, $"argument {i} ('{parameters[i].Name}')"));
            }
            return new Process(method, instance, args, spec.Name, spec.Daemon);
        }
        var type = Type.GetType(spec.ProcessType!, throwOnError: true)!;
        if (!typeof(Process).IsAssignableFrom(type))
        {
            throw new ProcessStartException($"{type} is not a Process.");
        }
        var process = (Process)serializer.FromElement(spec.State!.Value, type, $"the state of {type.Name}")!;
        process.Name = spec.Name;
        process.Daemon = spec.Daemon;
        return process;
    }
}
