namespace Demo;

using Broker;

/// <summary>Buyers in separate processes read the tickets left and buy one. Holding the value's lock across the read
/// and the write sells exactly what there is; <c>--no-lock</c> shows the race that oversells.</summary>
public static class Tickets
{
    public static int Run(Arguments args)
    {
        var buyers = args.Number("buyers");
        var tickets = args.Number("tickets");
        var useLock = !args.Flag("no-lock");

        var remaining = new Value<int>(tickets);
        var sold = new Value<int>(0);
        var ready = new Value<int>(0);
        var processes = Enumerable.Range(1, buyers)
            .Select(b => new Process(Buy, remaining, sold, ready, buyers, $"buyer{b}", useLock))
            .ToList();
        processes.ForEach(p => p.Start());
        processes.ForEach(p => p.Join());

        Console.WriteLine($"sold {sold.Get()} of {tickets}, remaining {remaining.Get()}");
        return processes.All(p => p.ExitCode == 0) ? 0 : 1;
    }

    public static void Buy(Value<int> remaining, Value<int> sold, Value<int> ready, int buyers, string buyer, bool useLock)
    {
        // Every buyer waits for the others, so that all of them reach the counter at once.
        ready.Add(1);
        while (ready.Get() < buyers)
        {
            Thread.Sleep(1);
        }
        using (useLock ? remaining.GetLock().EnterScope() : null)
        {
            var left = remaining.Get();
            if (left == 0)
            {
                Console.WriteLine($"{buyer} found none left");
                return;
            }
            Thread.Sleep(20); // paying: the window in which an unlocked read goes stale
            remaining.Set(left - 1);
            sold.Add(1);
            Console.WriteLine($"{buyer} bought a ticket, {left - 1} left");
        }
    }
}
