namespace Demo;

using Broker;

/// <summary>The Pool examples: map squares across worker processes, and apply_async with a callback and with an
/// exception raised in a worker.</summary>
public static class Pools
{
    public static int Map(Arguments args)
    {
        var n = args.Number("n", 10);
        var chunksize = args.Number("chunksize", 1);
        var processes = args.Number("processes", 2);
        if (processes == 0)
        {
            Console.Error.WriteLine("--processes 0 (remote worker hosts only) comes with the worker fleet; give 1 or more.");
            return 2;
        }
        using var pool = new Pool(processes);
        var squares = pool.Map(Square, Enumerable.Range(1, n), chunksize == 0 ? null : chunksize);
        Console.WriteLine($"[{string.Join(", ", squares)}]");
        return 0;
    }

    public static int Apply(Arguments args)
    {
        using var pool = new Pool(args.Number("processes", 2));
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

    [PoolTask]
    public static int Square(int x) => x * x;

    [PoolTask]
    public static int Divide(int a, int b) => a / b;
}
