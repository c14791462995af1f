using Broker.Transport;

namespace Broker;

/// <summary>A condition variable shared by processes, like <c>multiprocessing.Condition</c>: a process that holds
/// its lock waits in <see cref="Wait"/> (the lock released meanwhile) until another that holds it calls
/// <see cref="Notify"/> or <see cref="NotifyAll"/>.</summary>
/// <remarks>
/// <para>A notify wakes waiters that were waiting when it came, never one that began to wait after it. Each is a
/// count on the broker: the sleepers, their tickets, the wake-ups handed out and taken (both only grow, so that a
/// waiter never misses a change), and the newest ticket a wake-up is for.</para>
/// <para>A waiter that dies still counts as asleep, so a later notify may hand it a wake-up that a later waiter then
/// takes: that wait returns <c>true</c> early, a wake-up Python's docs tell callers to expect. Check the state the
/// condition guards after a wait, or use <see cref="WaitFor"/>, which does.</para>
/// </remarks>
public sealed class Condition : BrokerHandle
{
    private const string Kind = "condition";
    private readonly HandleLock _lock;

    /// <param name="lock">The lock the condition uses; an <see cref="RLock"/> of its own by default, as in Python.</param>
    /// <param name="name">The condition's name on the broker; a unique one by default.</param>
    /// <param name="broker">The broker; <see cref="BrokerContext.Default"/> by default.</param>
    public Condition(LockHandle? @lock = null, string? name = null, BrokerContext? broker = null)
        : base(broker, name, Kind, create: false)
    {
        _lock = HandleLock.For(this, @lock, synchronized: true);
    }

    private Condition(BrokerContext broker, HandleDescriptor descriptor)
        : base(broker, descriptor.Name, Kind, create: false)
    {
        _lock = HandleLock.Attach(this, descriptor.Lock);
    }

    /// <summary>The lock the condition uses.</summary>
    public LockHandle Lock => _lock.Get();

    private IValueBackend Values => Context.Values;

    private string Sleepers => $"{Name}:sleepers";
    private string Tickets => $"{Name}:tickets";
    private string Handed => $"{Name}:wakeups-handed";
    private string Taken => $"{Name}:wakeups-taken";
    private string WakeupsFor => $"{Name}:wakeups-for";

    /// <summary>Acquires the condition's lock, Python's <c>acquire()</c>.</summary>
    public ValueTask<bool> AcquireAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Lock.AcquireAsync(timeout, cancellationToken);

    /// <summary>Releases the condition's lock, Python's <c>release()</c>.</summary>
    public ValueTask ReleaseAsync(CancellationToken cancellationToken = default) => Lock.ReleaseAsync(cancellationToken);

    /// <summary>Acquires the condition's lock for a <c>using</c> scope, like <c>with cond:</c>.</summary>
    public ValueTask<LockScope> EnterScopeAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Lock.EnterScopeAsync(timeout, cancellationToken);

    /// <summary>Releases the lock, waits until notified or until <paramref name="timeout"/> (null: without limit)
    /// passes, and acquires the lock again before it returns, Python's <c>wait(timeout)</c>: <c>false</c> if the
    /// timeout passed.</summary>
    /// <exception cref="LockNotOwnedException">The caller does not hold the lock.</exception>
    public async ValueTask<bool> WaitAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var deadline = new Deadline(Timeouts.From(timeout), Context.Options.TimeProvider);
        var @lock = HeldLock("wait on");
        await Values.AddAsync(Sleepers, Scalar.FromInteger(1), cancellationToken).ConfigureAwait(false);
        var ticket = (await Values.AddAsync(Tickets, Scalar.FromInteger(1), cancellationToken).ConfigureAwait(false)).Integer;
        var levels = await @lock.ReleaseAllAsync(cancellationToken).ConfigureAwait(false);
        var woken = false;
        try
        {
            woken = await TakeWakeupAsync(ticket, deadline, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await @lock.RestoreAsync(levels, CancellationToken.None).ConfigureAwait(false);
            // Under the lock again, where no notify runs: a wake-up handed out since the timeout is this waiter's
            // to take; else it stops counting as asleep.
            if (!woken && !(woken = await TryTakeWakeupAsync(ticket, CancellationToken.None).ConfigureAwait(false)))
            {
                await Values.AddAsync(Sleepers, Scalar.FromInteger(-1), CancellationToken.None).ConfigureAwait(false);
            }
        }
        return woken;
    }

    /// <summary>Waits until <paramref name="predicate"/> is true, up to <paramref name="timeout"/> in all, Python's
    /// <c>wait_for(predicate, timeout)</c>: returns the predicate's last value. The predicate runs holding the lock.</summary>
    /// <exception cref="LockNotOwnedException">The caller does not hold the lock.</exception>
    public async ValueTask<bool> WaitForAsync(Func<ValueTask<bool>> predicate, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var deadline = new Deadline(Timeouts.From(timeout), Context.Options.TimeProvider);
        while (true)
        {
            if (await predicate().ConfigureAwait(false))
            {
                return true;
            }
            var remaining = deadline.Remaining;
            if (remaining == TimeSpan.Zero)
            {
                return false;
            }
            await WaitAsync(remaining, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Wakes up to <paramref name="n"/> of the processes waiting now, Python's <c>notify(n=1)</c>.</summary>
    /// <exception cref="LockNotOwnedException">The caller does not hold the lock.</exception>
    public async ValueTask NotifyAsync(int n = 1, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        HeldLock("notify");
        var sleepers = (await Values.GetAsync(Sleepers, ScalarKind.Integer, cancellationToken).ConfigureAwait(false)).Integer;
        var woken = Math.Min(n, sleepers);
        if (woken <= 0)
        {
            return;
        }
        // Every sleeper took its ticket holding the lock, as this does: the newest ticket now is the newest sleeper.
        var newest = await Values.GetAsync(Tickets, ScalarKind.Integer, cancellationToken).ConfigureAwait(false);
        await Values.SetAsync(WakeupsFor, newest, cancellationToken).ConfigureAwait(false);
        await Values.AddAsync(Sleepers, Scalar.FromInteger(-woken), cancellationToken).ConfigureAwait(false);
        await Values.AddAsync(Handed, Scalar.FromInteger(woken), cancellationToken).ConfigureAwait(false);
        await Values.NotifyAsync(Handed, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Wakes every process waiting now, Python's <c>notify_all()</c>.</summary>
    /// <exception cref="LockNotOwnedException">The caller does not hold the lock.</exception>
    public ValueTask NotifyAllAsync(CancellationToken cancellationToken = default) => NotifyAsync(int.MaxValue, cancellationToken);

    /// <summary>Python's <c>acquire(block=True, timeout=None)</c>.</summary>
    public bool Acquire(bool block = true, TimeSpan? timeout = null) => Lock.Acquire(block, timeout);

    /// <summary>Python's <c>release()</c>.</summary>
    public void Release() => Lock.Release();

    /// <inheritdoc cref="EnterScopeAsync"/>
    public LockScope EnterScope(TimeSpan? timeout = null) => Lock.EnterScope(timeout);

    /// <summary>Python's <c>wait(timeout=None)</c>.</summary>
    public bool Wait(TimeSpan? timeout = null) => Sync.Run(WaitAsync(timeout));

    /// <summary>Python's <c>wait_for(predicate, timeout=None)</c>.</summary>
    public bool WaitFor(Func<bool> predicate, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        return Sync.Run(WaitForAsync(() => new ValueTask<bool>(predicate()), timeout));
    }

    /// <summary>Python's <c>notify(n=1)</c>.</summary>
    public void Notify(int n = 1) => Sync.Run(NotifyAsync(n));

    /// <summary>Python's <c>notify_all()</c>.</summary>
    public void NotifyAll() => Sync.Run(NotifyAllAsync());

    private LockHandle HeldLock(string action)
    {
        var @lock = Lock;
        return @lock.IsHeldHere
            ? @lock
            : throw new LockNotOwnedException($"Condition '{Name}': cannot {action} it without holding its lock '{@lock.Name}'.");
    }

    /// <summary>Waits for a wake-up meant for <paramref name="ticket"/> or an older one, and takes it.</summary>
    private ValueTask<bool> TakeWakeupAsync(long ticket, Deadline deadline, CancellationToken cancellationToken) =>
        Values.TryUntilAsync(Handed, deadline, look: null, ct => TryTakeWakeupAsync(ticket, ct), cancellationToken);

    private async ValueTask<bool> TryTakeWakeupAsync(long ticket, CancellationToken cancellationToken)
    {
        if ((await Values.GetAsync(WakeupsFor, ScalarKind.Integer, cancellationToken).ConfigureAwait(false)).Integer < ticket)
        {
            return false;
        }
        // Handed out only grows: one handed out after this look changes what the waiter waits on, and it looks again.
        var handed = (await Values.GetAsync(Handed, ScalarKind.Integer, cancellationToken).ConfigureAwait(false)).Integer;
        return await Values.TryStepAsync(Taken, 1, taken => taken < handed, cancellationToken).ConfigureAwait(false);
    }

    internal override HandleDescriptor Describe() => new(Kind, Name, Lock: _lock.Descriptor);

    internal static Condition Attach(BrokerContext broker, HandleDescriptor descriptor) => new(broker, descriptor);
}
