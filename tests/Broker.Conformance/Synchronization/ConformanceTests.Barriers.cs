namespace Broker.Conformance;

using Broker;
using Barrier = Broker.Barrier;

// Barriers, between clients of one broker as between processes: CPython's _TestBarrier.
public abstract partial class ConformanceTests
{
    private const int Parties = 3;

    /// <summary>The same barrier in <paramref name="count"/> other clients.</summary>
    private async Task<List<Barrier>> PartiesAsync(Barrier barrier, int count)
    {
        var parties = new List<Barrier>();
        for (var i = 0; i < count; i++)
        {
            parties.Add(new Barrier(barrier.Parties, name: barrier.Name, broker: await PeerAsync()));
        }
        return parties;
    }

    private static async Task AFullRoundPassesAsync(Barrier barrier, List<Barrier> parties)
    {
        Assert.False(await barrier.BrokenAsync());
        var round = parties.Select(p => Task.Run(async () => await p.WaitAsync(Patience))).ToList();
        Assert.Equal(Enumerable.Range(0, Parties), (await Task.WhenAll(round)).Order());
    }

    /// <summary>CPython's test_barrier and test_wait_return, over several rounds: every party waits for the last,
    /// and each round hands out every index once.</summary>
    [Fact]
    public async Task Every_party_waits_for_the_last_and_each_round_hands_out_every_index_once()
    {
        var barrier = new Barrier(Parties, broker: Broker);
        var parties = await PartiesAsync(barrier, Parties);
        for (var round = 0; round < 3; round++)
        {
            var early = parties.Take(Parties - 1).Select(p => Task.Run(async () => await p.WaitAsync(Patience))).ToList();
            await Eventually.TrueAsync(async () => await barrier.NWaitingAsync() == Parties - 1, "two parties to wait");
            Assert.False(early.Any(t => t.IsCompleted), "no party passes before the last arrives");
            var last = await parties[^1].WaitAsync(Patience);
            var indexes = (await Task.WhenAll(early)).Append(last).Order();
            Assert.Equal(Enumerable.Range(0, Parties), indexes);
        }
        Assert.Equal(0, barrier.NWaiting());
        Assert.False(barrier.Broken());
    }

    /// <summary>CPython's test_action: the last party runs the action once a round, before any party passes; an
    /// action that throws breaks the barrier.</summary>
    [Fact]
    public async Task The_last_party_runs_the_action_once_a_round_and_a_throwing_action_breaks_the_barrier()
    {
        var rounds = new Value<int>(0, broker: Broker);
        var barrier = new Barrier(2, action: () => rounds.Add(1), broker: Broker);
        var other = (await PartiesAsync(barrier, 1))[0];
        for (var round = 1; round <= 2; round++)
        {
            var waiting = Task.Run(async () => await other.WaitAsync(Patience));
            await Eventually.TrueAsync(async () => await barrier.NWaitingAsync() == 1, "the other party to wait");
            await barrier.WaitAsync(Patience);
            await waiting;
            Assert.Equal(round, await rounds.GetAsync());
        }

        var failing = new Barrier(2, action: () => throw new InvalidOperationException("action failed"), name: barrier.Name, broker: Broker);
        var waits = Task.Run(async () => await other.WaitAsync(Patience));
        await Eventually.TrueAsync(async () => await barrier.NWaitingAsync() == 1, "the other party to wait");
        Assert.Equal("action failed", (await Assert.ThrowsAsync<InvalidOperationException>(() => failing.WaitAsync(Patience).AsTask())).Message);
        await Assert.ThrowsAsync<BrokenBarrierException>(() => waits);
        Assert.True(await barrier.BrokenAsync());
    }

    /// <summary>CPython's test_abort and test_abort_and_reset: abort breaks the barrier for the parties waiting and
    /// those that come later, until a reset, after which a full round passes.</summary>
    [Fact]
    public async Task Abort_breaks_the_barrier_for_waiting_and_later_parties_until_Reset()
    {
        var barrier = new Barrier(Parties, broker: Broker);
        var parties = await PartiesAsync(barrier, Parties);
        var waiting = Task.Run(async () => await parties[0].WaitAsync(Patience));
        await Eventually.TrueAsync(async () => await barrier.NWaitingAsync() == 1, "a party to wait");
        await barrier.AbortAsync();
        await Assert.ThrowsAsync<BrokenBarrierException>(() => waiting);
        Assert.True(barrier.Broken());
        var error = await Assert.ThrowsAsync<BrokenBarrierException>(() => parties[1].WaitAsync(Patience).AsTask());
        Assert.Contains(barrier.Name, error.Message);

        await barrier.ResetAsync();
        await AFullRoundPassesAsync(barrier, parties);
    }

    /// <summary>CPython's test_reset: a reset while parties wait raises in each of them, and the barrier works on.</summary>
    [Fact]
    public async Task Reset_raises_in_the_waiting_parties_and_the_barrier_works_on()
    {
        var barrier = new Barrier(Parties, broker: Broker);
        var parties = await PartiesAsync(barrier, Parties);
        var waiting = parties.Take(2).Select(p => Task.Run(async () => await p.WaitAsync(Patience))).ToList();
        await Eventually.TrueAsync(async () => await barrier.NWaitingAsync() == 2, "two parties to wait");
        barrier.Reset();
        foreach (var wait in waiting)
        {
            await Assert.ThrowsAsync<BrokenBarrierException>(() => wait);
        }
        await AFullRoundPassesAsync(barrier, parties);
    }

    /// <summary>CPython's test_timeout and test_default_timeout: a party's timeout breaks the barrier for every
    /// party, and a barrier's own timeout applies to a wait that gives none, in another client too.</summary>
    [Fact]
    public async Task A_timeout_breaks_the_barrier_for_every_party()
    {
        var barrier = new Barrier(Parties, broker: Broker);
        var parties = await PartiesAsync(barrier, 2);
        var patient = Task.Run(async () => await parties[0].WaitAsync(Patience));
        await Eventually.TrueAsync(async () => await barrier.NWaitingAsync() == 1, "a party to wait");
        await Assert.ThrowsAsync<BrokenBarrierException>(() => parties[1].WaitAsync(Short).AsTask());
        await Assert.ThrowsAsync<BrokenBarrierException>(() => patient);
        Assert.True(await barrier.BrokenAsync());

        var timed = new Barrier(2, timeout: Short, broker: Broker);
        var error = Assert.Throws<BrokenBarrierException>(() => timed.Wait());
        Assert.Contains("timed out", error.Message);
    }

    /// <summary>CPython's test_single_thread: a barrier of one party passes at once, every time.</summary>
    [Fact]
    public async Task A_barrier_of_one_party_passes_at_once()
    {
        var barrier = new Barrier(1, broker: Broker);
        Assert.Equal(0, await barrier.WaitAsync(TimeSpan.Zero));
        Assert.Equal(0, barrier.Wait());
        Assert.Throws<ArgumentOutOfRangeException>(() => new Barrier(0, broker: Broker));
        var peer = await PeerAsync();
        var error = await Assert.ThrowsAsync<ArgumentException>(() => new Barrier(2, name: barrier.Name, broker: peer).WaitAsync().AsTask());
        Assert.Contains("exists with 1 parties", error.Message);
    }
}
