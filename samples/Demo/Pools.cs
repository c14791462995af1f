namespace Demo;

using Broker;

/// <summary>The Pool examples: map squares across worker processes, and apply_async with a callback and with an
/// exception raised in a worker.</summary>
public static class Pools
{
    public static int Map(Arguments args)
    {
        var n = args.Number("n");
        var chunksize = args.Number("chunksize");
        using var pool = Open(args);
        // A long map on a terminal, or any map with --progress, shows its progress on standard error.
        var progress = args.Flag("progress") || (n >= 1_000 && !Console.IsErrorRedirected) ? new ProgressBar(Console.Error) : null;
        var squares = pool.MapAsync(Square, Enumerable.Range(1, n), chunksize == 0 ? null : chunksize, progress: progress).Get();
        progress?.Finish();
        Console.WriteLine($"[{string.Join(", ", squares)}]");
        return 0;
    }

    public static int Apply(Arguments args)
    {
        using var pool = Open(args);
        var done = new ManualResetEventSlim();
        var result = pool.ApplyAsync<int>(Square, [7], callback: value =>
        {
            Console.WriteLine($"callback: square(7) = {value}");
            done.Set();
        });
        Console.WriteLine($"apply_async(square, 7).get() = {result.Get()}");
        done.Wait();

        var failed = new ManualResetEventSlim();
        var failing = pool.ApplyAsync<int>(Divide, [1, 0], errorCallback: error =>
        {
            Console.WriteLine($"error callback: {error.Message}");
            failed.Set();
        });
        try
        {
            failing.Get();
            Console.WriteLine("divide(1, 0) did not raise");
            return 1;
        }
        catch (RemoteTaskException e)
        {
            Console.WriteLine($"apply_async(divide, 1, 0).get() raised {e.RemoteType}: {e.RemoteMessage}");
        }
        failed.Wait();
        Console.WriteLine("pool-apply ok");
        return 0;
    }

    /// <summary>Serves pool <c>--pool NAME</c> with <c>--processes K</c> workers until SIGTERM or Ctrl-C: this program
    /// in worker mode, as the containers of docker-compose.yml run it.</summary>
    public static int Serve(Arguments args)
    {
        var name = args.Text("pool")!;
        using var stopping = new CancellationTokenSource();
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Stop);
        using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Stop);
        Console.WriteLine($"serving pool {name} with {args.Number("processes")} workers");
        Pool.ServeAsync(name, args.Number("processes"), broker: BrokerContext.Default, cancellationToken: stopping.Token).GetAwaiter().GetResult();
        Console.WriteLine($"stopped serving pool {name}");
        return 0;

        void Stop(System.Runtime.InteropServices.PosixSignalContext context)
        {
            context.Cancel = true;
            stopping.Cancel();
        }
    }

    /// <summary>A pool of <c>--processes</c> local workers (2 by default); with <c>--pool NAME</c>, one that the worker
    /// hosts serving NAME share, and with <c>--processes 0</c> one that uses only them.</summary>
    private static Pool Open(Arguments args) => new(args.Number("processes"), name: args.Text("pool"));

    [PoolTask]
    public static int Square(int x) => x * x;

    [PoolTask]
    public static int Divide(int a, int b) => a / b;
}
