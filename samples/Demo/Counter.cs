namespace Demo;

using Broker;

/// <summary>Many processes increment one shared value, each read-modify-write under the value's lock.</summary>
public static class Counter
{
    public static int Run(Arguments args)
    {
        var processes = args.Number("processes");
        var increments = args.Number("increments");

        var counter = new Value<long>(0);
        var workers = Enumerable.Range(0, processes).Select(_ => new Process(Increment, counter, increments)).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());

        var expected = (long)processes * increments;
        var final = counter.Get();
        Console.WriteLine($"final value {final} expected {expected}");
        return final == expected ? 0 : 1;
    }

    public static void Increment(Value<long> counter, int increments)
    {
        for (var i = 0; i < increments; i++)
        {
            using (counter.GetLock().EnterScope())
            {
                counter.Set(counter.Get() + 1);
            }
        }
    }
}
