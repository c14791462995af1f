using System.CommandLine;
using Broker;
using Broker.Processes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

// Its worker processes are started, signalled and reaped as the core package's launcher does: Linux and macOS.
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]

return await HostCommand.RunAsync(args);

/// <summary><c>broker-worker --broker URL --pool NAME [--processes K] [--max-tasks-per-child N] [--assembly PATH]...</c>:
/// serves a pool with K worker processes until SIGTERM or Ctrl-C, then gives back the tasks in flight.</summary>
internal static class HostCommand
{
    private static readonly Option<string> Broker = new("--broker")
    {
        Description = $"The broker URL, such as redis://host:6379 or amqp://host:5672/,redis://host:6379; {BrokerContext.UrlVariable} by default.",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(BrokerContext.UrlVariable) ?? "",
    };

    private static readonly Option<string> PoolName = new("--pool") { Description = "The pool to serve.", Required = true };

    private static readonly Option<int?> Processes = new("--processes") { Description = "Worker processes; the number of cores by default." };

    private static readonly Option<int> MaxTasksPerChild = new("--max-tasks-per-child")
    {
        Description = "Tasks a worker runs before a fresh one replaces it; 0, the default, for no limit.",
    };

    private static readonly Option<string[]> Assemblies = new("--assembly")
    {
        Description = "An assembly whose [PoolTask] methods the workers run; repeat it for more.",
        DefaultValueFactory = _ => [],
    };

    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Serves a Broker pool with worker processes until SIGTERM or Ctrl-C; the tasks in flight then go back to the queue.")
        {
            Broker, PoolName, Processes, MaxTasksPerChild, Assemblies,
        };
        foreach (var count in new Option[] { Processes, MaxTasksPerChild })
        {
            count.Validators.Add(result =>
            {
                if (result.Tokens.Count > 0 && int.TryParse(result.Tokens[0].Value, out var value) && value < 0)
                {
                    result.AddError($"{count.Name} takes a whole number of 0 or more.");
                }
            });
        }
        root.Validators.Add(result =>
        {
            if (string.IsNullOrEmpty(result.GetValue(Broker)))
            {
                result.AddError($"--broker (or {BrokerContext.UrlVariable}) is required.");
            }
        });
        root.SetAction((parsed, _) => ServeAsync(parsed));
        // The generic host stops on SIGTERM or Ctrl-C itself, and gives back the tasks in flight first.
        return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    private static async Task<int> ServeAsync(ParseResult parsed)
    {
        var url = parsed.GetValue(Broker)!;
        var pool = parsed.GetValue(PoolName)!;
        var processes = parsed.GetValue(Processes);
        var maxTasks = parsed.GetValue(MaxTasksPerChild);
        try
        {
            TaskAssemblies.Add(parsed.GetValue(Assemblies)!);
        }
        catch (FileNotFoundException e)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
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
}
