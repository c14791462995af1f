namespace Broker.Conformance;

using Broker;
using Broker.Transport;

/// <summary>What an operator sees of the locks and values from another process, through <see cref="BrokerInspector"/>.</summary>
public abstract partial class ConformanceTests
{
    [Fact]
    public async Task The_listing_shows_each_lock_with_its_holder_and_latest_fencing_token()
    {
        var held = new Lock(Unique("held"), Broker);
        var free = new Lock(Unique("free"), Broker);
        await using var holding = await held.EnterScopeAsync();
        await using (await free.EnterScopeAsync())
        {
        }
        long latest;
        await using (var again = await free.EnterScopeAsync())
        {
            latest = again.FencingToken;
        }

        var locks = await new BrokerInspector(await PeerAsync()).LocksAsync();

        var shownHeld = Assert.Single(locks, l => l.Name == held.Name);
        Assert.False(string.IsNullOrEmpty(shownHeld.Holder));
        Assert.Equal(holding.FencingToken, shownHeld.FencingToken);
        Assert.True(shownHeld.LeaseLeft is null || shownHeld.LeaseLeft > TimeSpan.Zero, $"lease left: {shownHeld.LeaseLeft}");
        Assert.Equal(new LockStatus(free.Name, null, latest, null), Assert.Single(locks, l => l.Name == free.Name));
        Assert.Equal(locks.Select(l => l.Name).Order(StringComparer.Ordinal), locks.Select(l => l.Name));
    }

    [Fact]
    public async Task The_listing_shows_each_value_and_array_element_as_it_is_now()
    {
        var count = new Value<int>(5, Unique("count"), Broker);
        var ratio = new Value<double>(0.5, Unique("ratio"), Broker);
        var cells = new Array<long>([1, 2], Unique("cells"), Broker);
        await count.SetAsync(7);
        await ratio.GetAsync();
        await cells.SetAsync(1, -3);

        var values = await new BrokerInspector(await PeerAsync()).ValuesAsync();

        Assert.Equal(Scalar.FromInteger(7), Assert.Single(values, v => v.Name == count.Name).Value);
        Assert.Equal(Scalar.FromFloat(0.5), Assert.Single(values, v => v.Name == ratio.Name).Value);
        Assert.Equal(Scalar.FromInteger(1), Assert.Single(values, v => v.Name == $"{cells.Name}[0]").Value);
        Assert.Equal(Scalar.FromInteger(-3), Assert.Single(values, v => v.Name == $"{cells.Name}[1]").Value);
    }
}
