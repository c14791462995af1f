namespace Demo;

using System.CommandLine;
using Broker;

/// <summary>The programs of Python's multiprocessing tutorials, ported: one subcommand each, every one taking
/// <c>--broker URL</c> (the embedded local broker by default). <c>--help</c> lists them and their options; an option
/// a subcommand does not take is an error.</summary>
public static class Program
{
    private static readonly Option<string?> Broker = new("--broker")
    {
        Description = "The broker URL: local:// (the default), redis://host:6379, amqp://host:5672/, or amqp://...,redis://...",
        Recursive = true,
    };

    public static int Main(string[] args)
    {
        var root = new RootCommand("Python's multiprocessing tutorials on Broker.") { Broker };
        Add(root, "producer-consumer", "Producers put items on a JoinableQueue, consumers take and mark them, the parent joins.", ProducerConsumer.Run,
            Number("--producers", 2, "producer processes"), Number("--items", 8, "items each producer puts"),
            Number("--consumers", 2, "consumer processes"), Number("--work-ms", 0, "milliseconds each item takes"));
        Add(root, "tickets", "Buyers race for the tickets, with a Lock around the sale unless --no-lock.", Tickets.Run,
            Number("--buyers", 8, "buyer processes"), Number("--tickets", 2, "tickets for sale"), Flag("--no-lock", "sell without the lock"));
        Add(root, "counter", "Processes increment a shared Value under its lock.", Counter.Run,
            Number("--processes", 10, "processes"), Number("--increments", 100, "increments each"));
        Add(root, "lifecycle", "A child's start, join, exit code, terminate and traceback.", Lifecycle.Run);
        Add(root, "pipe", "A child sends on a Pipe, then closes it.", Pipes.Run);
        Add(root, "barrier", "Parties meet at a Barrier, round after round.", Barriers.Run,
            Number("--parties", 3, "processes"), Number("--rounds", 2, "rounds"));
        Add(root, "pool-map", "Pool.Map of the squares.", Pools.Map,
            Number("--n", 10, "items"), Number("--chunksize", 1, "items per task"), Number("--processes", 2, "worker processes"),
            Text("--pool", "a pool that worker hosts serve, instead of the pool's own workers"), Flag("--progress", "draw a progress bar on standard error"));
        Add(root, "pool-apply", "Pool.ApplyAsync with a callback, and a task that raises.", Pools.Apply,
            Number("--processes", 2, "worker processes"), Text("--pool", "a pool that worker hosts serve, instead of the pool's own workers"));
        Add(root, "manager-pool", "Pool tasks write to and read from a Manager's Queue and Dict.", ManagerPool.Run,
            Number("--messages", 5, "messages"));
        Add(root, "worker", "Serves a named pool until Ctrl-C, as a worker host does.", Pools.Serve,
            Text("--pool", "the pool to serve", required: true), Number("--processes", 2, "worker processes"));
        return root.Parse(args).Invoke();
    }

    private static void Add(RootCommand root, string name, string description, Func<Arguments, int> run, params Option[] options)
    {
        var command = new Command(name, description);
        foreach (var option in options)
        {
            command.Options.Add(option);
        }
        command.SetAction(parsed =>
        {
            try
            {
                if (parsed.GetValue(Broker) is { } url)
                {
                    BrokerContext.Configure(url);
                }
                return run(new Arguments(parsed));
            }
            catch (Exception e) when (e is BrokerException or ArgumentException or FormatException)
            {
                Console.Error.WriteLine($"{e.GetType().Name}: {e.Message}");
                return 1;
            }
        });
        root.Subcommands.Add(command);
    }

    private static Option<int> Number(string name, int fallback, string description)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => fallback };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 0)
            {
                result.AddError($"{name} takes a whole number of 0 or more.");
            }
        });
        return option;
    }

    private static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    private static Option<string?> Text(string name, string description, bool required = false) =>
        new(name) { Description = description, Required = required };
}

/// <summary>The options a subcommand was given, by name without the dashes.</summary>
public sealed class Arguments(ParseResult parsed)
{
    public string? Text(string name) => parsed.GetValue<string?>("--" + name);

    public bool Flag(string name) => parsed.GetValue<bool>("--" + name);

    public int Number(string name) => parsed.GetValue<int>("--" + name);
}
