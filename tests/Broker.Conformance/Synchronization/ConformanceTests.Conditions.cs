namespace Broker.Conformance;

using System.Diagnostics;
using Broker;

// Conditions, between clients of one broker as between processes: CPython's _TestCondition.
public abstract partial class ConformanceTests
{
    /// <summary>Waiters of other clients, each counted in <c>waiting</c> holding the lock just before it waits, so
    /// that once the notifier holds the lock and sees them all counted, all are asleep.</summary>
    private async Task<(Condition Mine, Value<int> Woken, List<Task<bool>> Waits)> SleepersAsync(int count, params TimeSpan[] timeouts)
    {
        var mine = new Condition(broker: Broker);
        var waiting = new Value<int>(0, broker: Broker);
        var woken = new Value<int>(0, broker: Broker);
        var waits = new List<Task<bool>>();
        for (var i = 0; i < count; i++)
        {
            var peer = await PeerAsync();
            var theirs = new Condition(new RLock(mine.Lock.Name, peer), mine.Name, peer);
            var counted = new Value<int>(name: waiting.Name, broker: peer);
            var done = new Value<int>(name: woken.Name, broker: peer);
            var timeout = i < timeouts.Length ? timeouts[i] : Patience;
            waits.Add(Task.Run(async () =>
            {
                await using (await theirs.EnterScopeAsync())
                {
                    await counted.AddAsync(1);
                    var result = await theirs.WaitAsync(timeout);
                    Assert.True(theirs.Lock.Locked(), "a wait returns holding the lock");
                    await done.AddAsync(1);
                    return result;
                }
            }));
        }
        await Eventually.TrueAsync(async () =>
        {
            await using (await mine.EnterScopeAsync())
            {
                return await waiting.GetAsync() == count;
            }
        }, "every waiter to wait");
        return (mine, woken, waits);
    }

    /// <summary>CPython's test_notify and test_notify_all: one notify wakes one waiter, and no other; notify_all
    /// wakes the rest.</summary>
    [Fact]
    public async Task Notify_wakes_one_waiter_and_NotifyAll_the_rest()
    {
        var (condition, woken, waits) = await SleepersAsync(3);
        await using (await condition.EnterScopeAsync())
        {
            await condition.NotifyAsync();
        }
        await Eventually.TrueAsync(async () => await woken.GetAsync() == 1, "one waiter to wake");
        await Task.Delay(Short);
        Assert.Equal(1, await woken.GetAsync());

        await using (await condition.EnterScopeAsync())
        {
            await condition.NotifyAllAsync();
        }
        Assert.All(await Task.WhenAll(waits), Assert.True);
    }

    /// <summary>CPython's test_notify_n: notify(n) wakes n, and more than are waiting wakes all.</summary>
    [Fact]
    public async Task Notify_n_wakes_n_waiters()
    {
        var (condition, woken, waits) = await SleepersAsync(5);
        using (condition.EnterScope())
        {
            condition.Notify(2);
        }
        await Eventually.TrueAsync(async () => await woken.GetAsync() == 2, "two waiters to wake");
        await Task.Delay(Short);
        Assert.Equal(2, await woken.GetAsync());
        using (condition.EnterScope())
        {
            condition.Notify(10);
        }
        Assert.All(await Task.WhenAll(waits), Assert.True);
    }

    /// <summary>CPython's test_timeout: a wait nobody notifies returns false after its timeout, holding the lock.</summary>
    [Fact]
    public async Task A_wait_nobody_notifies_returns_false_after_its_timeout_holding_the_lock()
    {
        var condition = new Condition(new Lock(broker: Broker), broker: Broker);
        await using (await condition.EnterScopeAsync())
        {
            var clock = Stopwatch.StartNew();
            Assert.False(await condition.WaitAsync(Short));
            Assert.InRange(clock.Elapsed, Short * 0.9, Patience);
            Assert.True(await condition.Lock.LockedAsync());
            Assert.False(await new Lock(condition.Lock.Name, await PeerAsync()).AcquireAsync(TimeSpan.Zero));
        }
        Assert.False(await condition.Lock.LockedAsync());
    }

    /// <summary>A waiter that timed out leaves no wake-up behind: the next notify wakes the waiter still asleep.</summary>
    [Fact]
    public async Task A_timed_out_waiter_does_not_take_a_later_waiters_wakeup()
    {
        var (condition, woken, waits) = await SleepersAsync(2, Short, Patience);
        Assert.False(await waits[0]);
        await using (await condition.EnterScopeAsync())
        {
            await condition.NotifyAsync();
        }
        Assert.True(await waits[1]);
    }

    /// <summary>Better than a count of wake-ups alone: a notify is for those waiting when it came, so a waiter that
    /// begins after it, even before the one notified has woken, stays asleep.</summary>
    [Fact]
    public async Task A_notify_is_for_the_waiters_of_its_moment_not_for_one_that_comes_after()
    {
        for (var round = 0; round < 5; round++)
        {
            var (condition, woken, waits) = await SleepersAsync(1);
            await using (await condition.EnterScopeAsync())
            {
                await condition.NotifyAsync();
            }
            await using (await condition.EnterScopeAsync())
            {
                Assert.False(await condition.WaitAsync(Short), "a later waiter is not woken by an earlier notify");
            }
            Assert.True(await waits[0]);
        }
    }

    /// <summary>Python raises RuntimeError for a wait or notify without the lock.</summary>
    [Fact]
    public async Task A_wait_or_notify_without_the_lock_raises()
    {
        var condition = new Condition(broker: Broker);
        var error = await Assert.ThrowsAsync<LockNotOwnedException>(() => condition.WaitAsync(TimeSpan.Zero).AsTask());
        Assert.Contains(condition.Name, error.Message);
        Assert.Throws<LockNotOwnedException>(() => condition.Notify());
        Assert.Throws<LockNotOwnedException>(() => condition.NotifyAll());
    }

    /// <summary>CPython's test_waitfor and test_waitfor_timeout: wait_for returns once the predicate holds, after a
    /// notify from another client; and false, its predicate's value, when it never does.</summary>
    [Fact]
    public async Task WaitFor_returns_once_its_predicate_holds_or_false_at_its_timeout()
    {
        var condition = new Condition(broker: Broker);
        var state = new Value<int>(0, broker: Broker);
        var peer = await PeerAsync();
        var theirs = new Condition(new RLock(condition.Lock.Name, peer), condition.Name, peer);
        var theirState = new Value<int>(name: state.Name, broker: peer);
        var setter = Task.Run(async () =>
        {
            for (var i = 1; i <= 3; i++)
            {
                await Task.Delay(50);
                await using (await theirs.EnterScopeAsync())
                {
                    await theirState.SetAsync(i);
                    await theirs.NotifyAllAsync();
                }
            }
        });
        await using (await condition.EnterScopeAsync())
        {
            Assert.True(await condition.WaitForAsync(async () => await state.GetAsync() == 3, Patience));
            Assert.Equal(3, await state.GetAsync());
        }
        await setter;

        using (condition.EnterScope())
        {
            var clock = Stopwatch.StartNew();
            Assert.False(condition.WaitFor(() => state.Get() == 4, Short));
            Assert.InRange(clock.Elapsed, Short * 0.9, Patience);
        }
    }

    /// <summary>A reentrant lock held twice is released whole for the wait and held twice again after it.</summary>
    [Fact]
    public async Task A_wait_releases_every_level_of_an_RLock_and_restores_them()
    {
        var condition = new Condition(broker: Broker);
        Assert.True(await condition.AcquireAsync());
        Assert.True(await condition.AcquireAsync());
        var peer = await PeerAsync();
        var theirs = new Condition(new RLock(condition.Lock.Name, peer), condition.Name, peer);
        var waiting = condition.WaitAsync(Patience).AsTask();
        await using (await theirs.EnterScopeAsync(Patience))
        {
            await theirs.NotifyAsync();
        }
        Assert.True(await waiting);
        await condition.ReleaseAsync();
        Assert.True(await condition.Lock.LockedAsync());
        await condition.ReleaseAsync();
        Assert.False(await condition.Lock.LockedAsync());
    }
}
