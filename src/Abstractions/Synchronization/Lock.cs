using Broker.Transport;

namespace Broker;

/// <summary>What <see cref="Lock"/> and <see cref="RLock"/> share: Python's <c>acquire</c> / <c>release</c>, their
/// async forms, and <c>using</c> scopes. A subclass says how it acquires and releases.</summary>
public abstract class LockHandle : BrokerHandle
{
    private protected const string Kind = "lock";

    // A lock exists on the broker once acquired: there is nothing to create first.
    private protected LockHandle(BrokerContext? broker, string? name)
        : base(broker, name, Kind, create: false)
    {
    }

    /// <summary>Acquires the lock, waiting up to <paramref name="timeout"/> (null: without limit); false if it
    /// stayed held.</summary>
    public ValueTask<bool> AcquireAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        LockScope.Succeeded(TryAcquireLeaseAsync(Timeouts.From(timeout), cancellationToken));

    /// <summary>Python's <c>acquire(block=True, timeout=None)</c>.</summary>
    public bool Acquire(bool block = true, TimeSpan? timeout = null) => Sync.Run(AcquireAsync(Timeouts.From(block, timeout)));

    /// <summary>Releases the lock.</summary>
    /// <exception cref="LockNotOwnedException">The caller does not hold it.</exception>
    public abstract ValueTask ReleaseAsync(CancellationToken cancellationToken = default);

    /// <summary>Python's <c>release()</c>.</summary>
    public void Release() => Sync.Run(ReleaseAsync());

    /// <summary>Acquires the lock for a <c>using</c> scope, like <c>with lock:</c>.</summary>
    /// <exception cref="TimeoutException">It stayed held for the whole timeout.</exception>
    public ValueTask<LockScope> EnterScopeAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        LockScope.EnterAsync(this, timeout, cancellationToken);

    /// <inheritdoc cref="EnterScopeAsync"/>
    public LockScope EnterScope(TimeSpan? timeout = null) => Sync.Run(EnterScopeAsync(timeout));

    /// <summary>Acquires at the broker; null if the lock stayed held. Not async in an override that records its
    /// holder in the caller's flow.</summary>
    internal abstract ValueTask<LockLease?> TryAcquireLeaseAsync(TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Whether any process holds the lock at this moment, Python's <c>locked()</c>: a moment's view, which
    /// may have changed by the time the caller reads it.</summary>
    public ValueTask<bool> LockedAsync(CancellationToken cancellationToken = default) => Context.Locks.IsHeldAsync(Name, cancellationToken);

    /// <summary>Python's <c>locked()</c>.</summary>
    public bool Locked() => Sync.Run(LockedAsync());

    /// <summary>Whether the caller holds the lock: this process for a <see cref="Lock"/>, this flow for an
    /// <see cref="RLock"/>. What a <see cref="Condition"/> checks before a wait or a notify.</summary>
    internal abstract bool IsHeldHere { get; }

    /// <summary>Releases every level the caller holds, for a <see cref="Condition"/>'s wait; returns how many, for
    /// <see cref="RestoreAsync"/>.</summary>
    internal abstract ValueTask<int> ReleaseAllAsync(CancellationToken cancellationToken);

    /// <summary>Acquires the lock again, waiting without limit, with the <paramref name="levels"/>
    /// <see cref="ReleaseAllAsync"/> gave.</summary>
    internal abstract ValueTask RestoreAsync(int levels, CancellationToken cancellationToken);

    internal override HandleDescriptor Describe() => new(Kind, Name);
}

/// <summary>A lock shared by processes, like <c>multiprocessing.Lock</c>. Only the holder can release it; a lock
/// whose holder dies is freed. Each acquisition carries a <see cref="LockScope.FencingToken"/> that only grows.
/// Not reentrant: use <see cref="RLock"/> for that.</summary>
/// <remarks>With implicit usings, <c>System.Threading.Lock</c> shares this name: put <c>using Broker;</c> after your
/// <c>namespace</c> line, where it takes precedence.</remarks>
public sealed class Lock : LockHandle
{
    private readonly System.Threading.Lock _gate = new();
    private LockOwner? _owner;

    /// <param name="name">The lock's name on the broker; a unique one by default.</param>
    /// <param name="broker">The broker; <see cref="BrokerContext.Default"/> by default.</param>
    public Lock(string? name = null, BrokerContext? broker = null)
        : base(broker, name)
    {
    }

    /// <inheritdoc/>
    public override ValueTask ReleaseAsync(CancellationToken cancellationToken = default)
    {
        LockOwner owner;
        lock (_gate)
        {
            // Cleared before the broker hears of it: the next holder in this process sets its own owner.
            owner = _owner ?? throw new LockNotOwnedException($"Lock '{Name}' is not held by this process.");
            _owner = null;
        }
        return Context.Locks.ReleaseAsync(Name, owner, cancellationToken);
    }

    internal override async ValueTask<LockLease?> TryAcquireLeaseAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var owner = LockOwner.New();
        var lease = await Context.Locks.AcquireAsync(Name, owner, timeout, cancellationToken).ConfigureAwait(false);
        if (lease is not null)
        {
            lock (_gate)
            {
                _owner = owner;
            }
        }
        return lease;
    }

    internal override bool IsHeldHere
    {
        get
        {
            lock (_gate)
            {
                return _owner is not null;
            }
        }
    }

    internal override async ValueTask<int> ReleaseAllAsync(CancellationToken cancellationToken)
    {
        await ReleaseAsync(cancellationToken).ConfigureAwait(false);
        return 1;
    }

    internal override async ValueTask RestoreAsync(int levels, CancellationToken cancellationToken) =>
        await TryAcquireLeaseAsync(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);

    internal static Lock Attach(BrokerContext broker, HandleDescriptor descriptor) => new(descriptor.Name, broker);
}

/// <summary>A reentrant lock shared by processes, like <c>multiprocessing.RLock</c>: its holder may acquire it again
/// and must release it as many times. Python's owner is a thread; here it is the async flow that acquired it, with
/// the tasks that flow starts while holding it.</summary>
public sealed class RLock : LockHandle
{
    private readonly AsyncLocal<Hold?> _hold = new();

    /// <inheritdoc cref="Lock(string?, BrokerContext?)"/>
    public RLock(string? name = null, BrokerContext? broker = null)
        : base(broker, name)
    {
    }

    /// <summary>Releases one level of this flow's hold; the last release frees the lock.</summary>
    /// <exception cref="LockNotOwnedException">This flow does not hold it.</exception>
    public override ValueTask ReleaseAsync(CancellationToken cancellationToken = default)
    {
        var hold = _hold.Value;
        if (hold is null || !hold.TryExit(out var last))
        {
            throw new LockNotOwnedException($"RLock '{Name}' is not held by this flow.");
        }
        if (!last)
        {
            return default;
        }
        _hold.Value = null;
        return Context.Locks.ReleaseAsync(Name, hold.Owner, cancellationToken);
    }

    // Not async: the hold is set in the caller's flow, which an async method's own context would hide from it.
    internal override ValueTask<LockLease?> TryAcquireLeaseAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_hold.Value is { } held && held.TryReenter())
        {
            return new(held.Lease);
        }
        var hold = new Hold(LockOwner.New());
        _hold.Value = hold;
        return hold.AcquireAsync(Context.Locks, Name, timeout, cancellationToken);
    }

    internal override bool IsHeldHere => _hold.Value is { Held: true };

    // The hold stays the caller's flow's object: an async method cannot give its caller a new one.
    internal override async ValueTask<int> ReleaseAllAsync(CancellationToken cancellationToken)
    {
        var hold = _hold.Value ?? throw new LockNotOwnedException($"RLock '{Name}' is not held by this flow.");
        var levels = hold.Suspend();
        await Context.Locks.ReleaseAsync(Name, hold.Owner, cancellationToken).ConfigureAwait(false);
        return levels;
    }

    internal override async ValueTask RestoreAsync(int levels, CancellationToken cancellationToken)
    {
        var hold = _hold.Value ?? throw new LockNotOwnedException($"RLock '{Name}' is not held by this flow.");
        await hold.ResumeAsync(Context.Locks, Name, levels, cancellationToken).ConfigureAwait(false);
    }

    internal static RLock Attach(BrokerContext broker, HandleDescriptor descriptor) => new(descriptor.Name, broker);

    private sealed class Hold(LockOwner owner)
    {
        private int _count;

        public LockOwner Owner { get; } = owner;

        public LockLease? Lease { get; private set; }

        public bool Held => Volatile.Read(ref _count) > 0;

        /// <summary>Stops holding, all levels at once; returns how many there were.</summary>
        public int Suspend() => Interlocked.Exchange(ref _count, 0);

        /// <summary>Holds again with <paramref name="levels"/>, as the same owner.</summary>
        public async ValueTask ResumeAsync(ILockBackend locks, string name, int levels, CancellationToken cancellationToken)
        {
            Lease = await locks.AcquireAsync(name, Owner, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _count, levels);
        }

        public async ValueTask<LockLease?> AcquireAsync(ILockBackend locks, string name, TimeSpan timeout, CancellationToken cancellationToken)
        {
            Lease = await locks.AcquireAsync(name, Owner, timeout, cancellationToken).ConfigureAwait(false);
            if (Lease is not null)
            {
                Interlocked.Increment(ref _count);
            }
            return Lease;
        }

        public bool TryReenter()
        {
            var count = Volatile.Read(ref _count);
            while (count > 0)
            {
                var seen = Interlocked.CompareExchange(ref _count, count + 1, count);
                if (seen == count)
                {
                    return true;
                }
                count = seen;
            }
            return false;
        }

        public bool TryExit(out bool last)
        {
            var count = Volatile.Read(ref _count);
            while (count > 0)
            {
                var seen = Interlocked.CompareExchange(ref _count, count - 1, count);
                if (seen == count)
                {
                    last = count == 1;
                    return true;
                }
                count = seen;
            }
            last = false;
            return false;
        }
    }
}

/// <summary>A held <see cref="Lock"/> or <see cref="RLock"/>, released when disposed.</summary>
public sealed class LockScope : IAsyncDisposable, IDisposable
{
    private readonly LockHandle _lock;
    private int _released;

    private LockScope(LockHandle @lock, LockLease lease)
    {
        _lock = @lock;
        FencingToken = lease.FencingToken;
        HandleLost = lease.Lost;
    }

    /// <summary>Grows with every acquisition of this lock: a resource that remembers the highest token it saw can
    /// refuse a write from a holder whose lock was lost in the meantime.</summary>
    public long FencingToken { get; }

    /// <summary>Fires if the transport learns the lock was lost while held (a lease that could not be renewed).</summary>
    public CancellationToken HandleLost { get; }

    // Not async: an RLock records its holder in the caller's flow before the first await.
    internal static ValueTask<LockScope> EnterAsync(LockHandle @lock, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        return Enter(@lock, timeout, @lock.TryAcquireLeaseAsync(Timeouts.From(timeout), cancellationToken));

        static async ValueTask<LockScope> Enter(LockHandle @lock, TimeSpan? timeout, ValueTask<LockLease?> acquiring)
        {
            var lease = await acquiring.ConfigureAwait(false)
                ?? throw new TimeoutException($"Lock '{@lock.Name}' stayed held for {timeout}.");
            return new LockScope(@lock, lease);
        }
    }

    internal static async ValueTask<bool> Succeeded(ValueTask<LockLease?> acquiring) =>
        await acquiring.ConfigureAwait(false) is not null;

    /// <summary>Releases the lock. A lock already lost (<see cref="HandleLost"/> fired) has nothing to release, and
    /// ending its scope is not an error; an explicit <c>Release</c> of it still raises.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) == 1)
        {
            return;
        }
        try
        {
            await _lock.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (LockNotOwnedException) when (HandleLost.IsCancellationRequested)
        {
        }
    }

    /// <summary>Releases the lock, as leaving Python's <c>with</c> block does.</summary>
    public void Dispose() => Sync.Run(DisposeAsync());
}
