namespace Demo;

using Broker;

/// <summary>The programs of Python's multiprocessing tutorials, ported: one subcommand each, every one taking
/// <c>--broker URL</c> (the embedded local broker by default).</summary>
public static class Program
{
    private static readonly Dictionary<string, Func<Arguments, int>> Commands = new()
    {
        ["producer-consumer"] = ProducerConsumer.Run,
        ["tickets"] = Tickets.Run,
        ["counter"] = Counter.Run,
        ["lifecycle"] = Lifecycle.Run,
        ["pipe"] = Pipes.Run,
        ["barrier"] = Barriers.Run,
        ["pool-map"] = Pools.Map,
        ["pool-apply"] = Pools.Apply,
        ["manager-pool"] = ManagerPool.Run,
        ["worker"] = Pools.Serve,
    };

    public static int Main(string[] args)
    {
        if (args.Length == 0 || !Commands.TryGetValue(args[0], out var command))
        {
            Console.Error.WriteLine($"usage: Demo <{string.Join("|", Commands.Keys)}> [--broker URL] [options]");
            return 2;
        }
        Arguments arguments;
        try
        {
            arguments = new Arguments(args[1..]);
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        try
        {
            if (arguments.Text("broker") is { } url)
            {
                BrokerContext.Configure(url);
            }
            return command(arguments);
        }
        catch (Exception e) when (e is BrokerException or ArgumentException or FormatException)
        {
            Console.Error.WriteLine($"{e.GetType().Name}: {e.Message}");
            return 1;
        }
    }
}

/// <summary><c>--name value</c> pairs and <c>--flag</c> switches.</summary>
public sealed class Arguments
{
    private readonly Dictionary<string, string?> _values = [];

    public Arguments(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new FormatException($"Unexpected argument '{args[i]}': options look like --name value.");
            }
            var hasValue = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal);
            _values[args[i][2..]] = hasValue ? args[++i] : null;
        }
    }

    public string? Text(string name) => _values.GetValueOrDefault(name);

    public bool Flag(string name) => _values.ContainsKey(name);

    public int Number(string name, int fallback) =>
        _values.GetValueOrDefault(name) is { } text
            ? int.TryParse(text, out var value) && value >= 0 ? value : throw new FormatException($"--{name} takes a whole number, not '{text}'.")
            : fallback;
}
