namespace Demo;

using Broker;

/// <summary>Parties in child processes meet at a barrier round after round; the first to arrive in each round
/// (the party given index 0, as in Python) says so once all have.</summary>
public static class Barriers
{
    public static int Run(Arguments args)
    {
        var parties = args.Number("parties");
        var rounds = args.Number("rounds");
        var barrier = new Barrier(parties);
        var children = Enumerable.Range(0, parties).Select(i => new Process(Meet, barrier, i, rounds)).ToList();
        children.ForEach(c => c.Start());
        children.ForEach(c => c.Join());
        var ok = children.All(c => c.ExitCode == 0);
        Console.WriteLine(ok ? $"barrier ok: {parties} parties met {rounds} times" : "a party failed");
        return ok ? 0 : 1;
    }

    public static void Meet(Barrier barrier, int party, int rounds)
    {
        for (var round = 1; round <= rounds; round++)
        {
            if (barrier.Wait(TimeSpan.FromSeconds(30)) == 0)
            {
                Console.WriteLine($"round {round}: all {barrier.Parties} arrived, party {party} first");
            }
        }
    }
}
