namespace Demo;

using Broker;

/// <summary>The tutorial that shares a <c>Manager().Queue()</c> between pool tasks: a writer task puts messages, a
/// reader task takes them and counts each in a manager's dictionary; then the same under
/// <c>concurrent.futures.ProcessPoolExecutor</c>.</summary>
public static class ManagerPool
{
    public static int Run(Arguments args)
    {
        var messages = args.Number("messages");
        using var manager = new Manager();
        var queue = manager.Queue<string>();
        var counts = manager.Dict<string, int>();

        using (var pool = new Pool(2))
        {
            var writer = pool.ApplyAsync<int>(Write, [queue, messages]);
            var reader = pool.ApplyAsync<int>(Read, [queue, counts, messages]);
            Console.WriteLine($"pool: writer put {writer.Get()}, reader got {reader.Get()}");
        }

        using (var executor = new ProcessPoolExecutor(maxWorkers: 2))
        {
            var writer = executor.Submit<int>(Write, queue, messages);
            var reader = executor.Submit<int>(Read, queue, counts, messages);
            Console.WriteLine($"executor: writer put {writer.GetAwaiter().GetResult()}, reader got {reader.GetAwaiter().GetResult()}");
        }

        var hello = counts.GetValueOrDefault("hello", 0);
        Console.WriteLine($"manager-pool ok: hello counted {hello} times");
        return hello == 2 * messages ? 0 : 1;
    }

    [PoolTask]
    public static int Write(Queue<string> queue, int messages)
    {
        for (var i = 0; i < messages; i++)
        {
            queue.Put("hello");
        }
        return messages;
    }

    [PoolTask]
    public static int Read(Queue<string> queue, DictProxy<string, int> counts, int messages)
    {
        for (var i = 0; i < messages; i++)
        {
            counts.AddOrUpdate(queue.Get(), 1, (_, count) => count + 1);
        }
        return messages;
    }
}
