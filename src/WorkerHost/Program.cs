using Broker;
using Broker.Processes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

// Its worker processes are started, signalled and reaped as the core package's launcher does: Linux and macOS.
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]

return await HostCommand.RunAsync(args);

/// <summary><c>Broker.WorkerHost --broker URL --pool NAME [--processes K] [--max-tasks-per-child N] [--assembly PATH]...</c>:
/// serves a pool with K worker processes until SIGTERM or Ctrl-C, then gives back the tasks in flight.</summary>
internal static class HostCommand
{
    private const string Usage =
        "usage: Broker.WorkerHost --broker URL --pool NAME [--processes K] [--max-tasks-per-child N] [--assembly PATH]...\n" +
        "  Serves pool NAME with K worker processes (default: the number of cores). Workers run the [PoolTask] methods\n" +
        "  of the assemblies given with --assembly. SIGTERM or Ctrl-C stops it; unfinished tasks go back to the queue.\n" +
        "  The broker may also come from BROKER_URL.";

    public static async Task<int> RunAsync(string[] args)
    {
        string? url = Environment.GetEnvironmentVariable(BrokerContext.UrlVariable), pool = null;
        int? processes = null;
        var maxTasks = 0;
        var assemblies = new List<string>();
        try
        {
            for (var i = 0; i < args.Length; i++)
            {
                var value = i + 1 < args.Length ? args[i + 1] : throw new FormatException($"{args[i]} needs a value.");
                switch (args[i])
                {
                    case "--broker": url = value; break;
                    case "--pool": pool = value; break;
                    case "--processes": processes = Count(args[i], value); break;
                    case "--max-tasks-per-child": maxTasks = Count(args[i], value); break;
                    case "--assembly": assemblies.Add(value); break;
                    default: throw new FormatException($"Unknown option {args[i]}.");
                }
                i++;
            }
            if (pool is null || url is null)
            {
                throw new FormatException("--pool and --broker (or BROKER_URL) are required.");
            }
            TaskAssemblies.Add(assemblies);
        }
        catch (Exception e) when (e is FormatException or FileNotFoundException)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true);
        // The generic host stops on SIGTERM or Ctrl-C, and the pool's workers then give back what they hold.
        builder.Services.AddBroker(o => o.Url = url).AddPoolWorkers(pool, processes, maxTasks);
        try
        {
            var host = builder.Build();
            var services = host.Services.GetServices<IHostedService>().OfType<BackgroundService>().ToList();
            await host.RunAsync();
            return services.Find(service => service.ExecuteTask is { IsFaulted: true })?.ExecuteTask?.Exception?.InnerException is { } failure
                ? Fail(failure)
                : 0;
        }
        catch (Exception e) when (e is BrokerException or OptionsValidationException)
        {
            return Fail(e);
        }
    }

    private static int Fail(Exception e)
    {
        Console.Error.WriteLine($"{e.GetType().Name}: {e.Message}");
        return 1;
    }

    private static int Count(string option, string value) =>
        int.TryParse(value, out var count) && count >= 0 ? count : throw new FormatException($"{option} takes a whole number, not '{value}'.");
}
