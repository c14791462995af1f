namespace Broker.Conformance;

using System.Text;
using Broker;

/// <summary>What every transport that keeps everything keeps: the queue suite, and locks, values and arrays.</summary>
public abstract partial class ConformanceTests : QueueConformanceTests
{
    /// <summary>A value sent as an item holds its initial value for a peer before the client that made it used it.</summary>
    [Fact]
    public async Task A_value_sent_as_an_item_holds_its_initial_value_before_its_maker_used_it()
    {
        var unused = new Value<int>(42, broker: Broker);
        var mailbox = new Queue<Value<int>>(broker: Broker);
        await mailbox.PutAsync(unused);
        var received = await new Queue<Value<int>>(name: mailbox.Name, broker: await PeerAsync()).GetAsync(Patience);
        Assert.Equal(42, await received.GetAsync());
    }

    [Fact]
    public async Task A_value_or_array_has_its_own_lock_a_given_one_or_none()
    {
        var own = new Value<int>(1, broker: Broker);
        Assert.IsType<RLock>(own.GetLock());
        Assert.Same(own.GetLock(), own.GetLock());

        var shared = new Lock(broker: Broker);
        var value = new Value<long>(2, broker: Broker, lockWith: shared);
        var array = new Array<int>(3, broker: Broker, lockWith: shared);
        Assert.Same(shared, value.GetLock());
        Assert.Same(shared, array.GetLock());
        await using (await value.GetLock().EnterScopeAsync())
        {
            Assert.False(await new Lock(name: shared.Name, broker: await PeerAsync()).AcquireAsync(TimeSpan.Zero));
            await value.SetAsync(await value.GetAsync() + 1);
        }
        Assert.Equal(3, await value.GetAsync());

        var raw = new Value<double>(0.5, broker: Broker, synchronized: false);
        Assert.Contains(raw.Name, Assert.Throws<InvalidOperationException>(() => raw.GetLock()).Message);
        Assert.Throws<InvalidOperationException>(() => new Array<int>(2, broker: Broker, synchronized: false).GetLock());
        Assert.Equal(0.5, await raw.GetAsync());
        Assert.Throws<ArgumentException>(() => new Value<int>(0, broker: Broker, lockWith: shared, synchronized: false));
    }

    /// <summary>CPython's test_lock and test_rlock, with <c>locked()</c>: held or not, as every client sees it; a
    /// second acquire fails at once; a release too many raises.</summary>
    [Fact]
    public async Task Locked_says_whether_any_client_holds_the_lock()
    {
        var mine = new Lock(broker: Broker);
        var theirs = new Lock(name: mine.Name, broker: await PeerAsync());
        Assert.False(await theirs.LockedAsync());
        Assert.True(await mine.AcquireAsync());
        Assert.True(await theirs.LockedAsync());
        Assert.True(mine.Locked());
        Assert.False(await mine.AcquireAsync(TimeSpan.Zero));
        await mine.ReleaseAsync();
        Assert.False(await theirs.LockedAsync());
        await Assert.ThrowsAsync<LockNotOwnedException>(() => mine.ReleaseAsync().AsTask());

        var reentrant = new RLock(broker: Broker);
        Assert.True(await reentrant.AcquireAsync());
        Assert.True(await reentrant.AcquireAsync());
        await reentrant.ReleaseAsync();
        Assert.True(await reentrant.LockedAsync());
        await reentrant.ReleaseAsync();
        Assert.False(await reentrant.LockedAsync());
        await Assert.ThrowsAsync<LockNotOwnedException>(() => reentrant.ReleaseAsync().AsTask());
    }

    [Fact]
    public async Task A_lock_excludes_other_holders_until_released()
    {
        var mine = new Lock(broker: Broker);
        var theirs = new Lock(name: mine.Name, broker: await PeerAsync());
        Assert.True(await mine.AcquireAsync());
        Assert.False(await theirs.AcquireAsync(TimeSpan.Zero));
        var waiting = theirs.AcquireAsync(Patience).AsTask();
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);
        await mine.ReleaseAsync();
        Assert.True(await waiting);
        await theirs.ReleaseAsync();
    }

    [Fact]
    public async Task Only_the_holder_can_release_a_lock()
    {
        var mine = new Lock(broker: Broker);
        var theirs = new Lock(name: mine.Name, broker: await PeerAsync());
        Assert.Throws<LockNotOwnedException>(() => mine.Release());
        await mine.AcquireAsync();
        await Assert.ThrowsAsync<LockNotOwnedException>(() => theirs.ReleaseAsync().AsTask());
        await mine.ReleaseAsync();
    }

    [Fact]
    public async Task Fencing_tokens_only_grow()
    {
        var @lock = new Lock(broker: Broker);
        long last = 0;
        for (var i = 0; i < 5; i++)
        {
            await using var scope = await @lock.EnterScopeAsync(Short);
            Assert.True(scope.FencingToken > last);
            last = scope.FencingToken;
        }
    }

    [Fact]
    public async Task A_lock_held_by_a_client_that_ends_is_freed()
    {
        var doomed = await PeerAsync();
        var theirs = new Lock(broker: doomed);
        Assert.True(await theirs.AcquireAsync());
        var mine = new Lock(name: theirs.Name, broker: Broker);
        var waiting = mine.AcquireAsync(Patience).AsTask();

        await doomed.DisposeAsync();

        Assert.True(await waiting);
        await mine.ReleaseAsync();
    }

    [Fact]
    public async Task A_lock_gives_mutual_exclusion_under_contention()
    {
        var counter = new Value<int>(0, broker: Broker);
        var contexts = new[] { Broker, await PeerAsync(), await PeerAsync() };
        var workers = contexts.Select(context => Task.Run(async () =>
        {
            var @lock = new Lock(name: counter.Name + ".guard", broker: context);
            var shared = new Value<int>(name: counter.Name, broker: context);
            for (var i = 0; i < 30; i++)
            {
                await using var held = await @lock.EnterScopeAsync(Patience);
                var seen = await shared.GetAsync();
                await shared.SetAsync(seen + 1);
            }
        }));
        await Task.WhenAll(workers);
        Assert.Equal(90, await counter.GetAsync());
    }

    [Fact]
    public async Task An_RLock_is_reentrant_for_its_holder_only()
    {
        var rlock = new RLock(broker: Broker);
        Assert.True(await rlock.AcquireAsync());
        Assert.True(await rlock.AcquireAsync(TimeSpan.Zero));
        var other = new RLock(name: rlock.Name, broker: await PeerAsync());
        Assert.False(await other.AcquireAsync(TimeSpan.Zero));
        await rlock.ReleaseAsync();
        Assert.False(await other.AcquireAsync(TimeSpan.Zero));
        await rlock.ReleaseAsync();
        Assert.True(await other.AcquireAsync(TimeSpan.Zero));
        await Assert.ThrowsAsync<LockNotOwnedException>(() => rlock.ReleaseAsync().AsTask());
        await other.ReleaseAsync();
    }

    [Fact]
    public async Task A_value_reads_writes_adds_and_compares_atomically()
    {
        var value = new Value<int>(5, broker: Broker);
        Assert.Equal(5, await value.GetAsync());
        await value.SetAsync(10);
        Assert.Equal(13, await value.AddAsync(3));
        Assert.Equal(13, await value.CompareExchangeAsync(20, 99));
        Assert.Equal(13, await value.CompareExchangeAsync(20, 13));
        Assert.Equal(20, value.Get());

        var peer = new Value<int>(name: value.Name, broker: await PeerAsync());
        Assert.Equal(20, await peer.GetAsync());
    }

    [Fact]
    public async Task Values_keep_long_and_double()
    {
        var big = new Value<long>(long.MaxValue - 1, broker: Broker);
        Assert.Equal(long.MaxValue, await big.AddAsync(1));
        var real = new Value<double>(0.5, broker: Broker);
        Assert.Equal(0.75, await real.AddAsync(0.25));
        Assert.Equal(0.75, await real.CompareExchangeAsync(2.5, 0.75));
        Assert.Equal(2.5, real.Get());
    }

    [Fact]
    public async Task Concurrent_adds_lose_no_update()
    {
        var value = new Value<long>(0, broker: Broker);
        var contexts = new[] { Broker, await PeerAsync() };
        await Task.WhenAll(contexts.SelectMany(context => Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var shared = new Value<long>(name: value.Name, broker: context);
            for (var i = 0; i < 50; i++)
            {
                await shared.AddAsync(1);
            }
        }))));
        Assert.Equal(400, await value.GetAsync());
    }

    [Fact]
    public async Task An_array_keeps_each_element()
    {
        var array = new Array<double>([1, 2, 3], broker: Broker);
        Assert.Equal(3, array.Length);
        Assert.Equal(new[] { 1.0, 2, 3 }, await array.ToArrayAsync());
        array[1] = 20;
        Assert.Equal(23.5, await array.AddAsync(2, 20.5));
        Assert.Equal(new[] { 1.0, 20, 23.5 }, array.ToArray());
        Assert.Throws<IndexOutOfRangeException>(() => array[3]);
        var zeros = new Array<int>(4, broker: Broker);
        Assert.Equal(new[] { 0, 0, 0, 0 }, zeros.ToArray());
    }
}
