namespace Demo;

using Broker;

/// <summary>The JoinableQueue example: producers put, daemon consumers get and mark each item done, and the parent
/// joins the queue. A consumer that dies mid-item does not lose it: the item goes to another consumer.</summary>
public static class ProducerConsumer
{
    public static int Run(Arguments args)
    {
        var producers = args.Number("producers");
        var items = args.Number("items");
        var consumers = args.Number("consumers");
        var workMs = args.Number("work-ms");

        var queue = new JoinableQueue<string>();
        var consuming = Enumerable.Range(1, consumers)
            .Select(c => new Process(Consume, queue, $"consumer{c}", workMs) { Daemon = true })
            .ToList();
        var producing = Enumerable.Range(1, producers)
            .Select(p => new Process(Produce, queue, $"producer{p}", items))
            .ToList();

        consuming.ForEach(c => c.Start());
        producing.ForEach(p => p.Start());
        producing.ForEach(p => p.Join());
        queue.Join();
        Console.WriteLine($"all {producers * items} items done");
        return producing.All(p => p.ExitCode == 0) ? 0 : 1;
    }

    public static void Produce(JoinableQueue<string> queue, string producer, int items)
    {
        for (var i = 1; i <= items; i++)
        {
            var item = $"{producer}-{i}";
            queue.Put(item);
            Console.WriteLine($"produced {item}");
        }
    }

    public static void Consume(JoinableQueue<string> queue, string consumer, int workMs)
    {
        while (true)
        {
            var item = queue.Get();
            if (workMs > 0)
            {
                Thread.Sleep(workMs);
            }
            Console.WriteLine($"consumed {item} by {consumer}");
            queue.TaskDone();
        }
    }
}
