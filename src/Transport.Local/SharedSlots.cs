using System.Collections.Concurrent;

namespace Broker.Transport.Local;

/// <summary>What a slot holds: a lock, or a value. A lock and a value may share a name.</summary>
internal enum SlotUse : byte
{
    Lock = 0,
    Value = 1,
}

/// <summary>A slot handed out by the broker: where it is, the kind of number it keeps, and the number of the session
/// that asked, which marks the locks that session holds.</summary>
internal readonly record struct SlotGrant(int Index, ScalarKind Kind, int Session);

/// <summary>Hands out one slot per name, and keeps the waiters of value slots: the host's broker, directly or over a
/// child's socket.</summary>
internal interface ISlotDirectory
{
    /// <summary>The slot of <paramref name="name"/>; a new value slot starts at <paramref name="initial"/>, which
    /// also fixes its kind.</summary>
    ValueTask<SlotGrant> SlotAsync(string name, SlotUse use, Scalar initial, CancellationToken cancellationToken);

    /// <summary>Waits, at the broker, until the value slot <paramref name="index"/> no longer holds
    /// <paramref name="seen"/> or a notify on it comes; false if <paramref name="timeout"/> passed first.</summary>
    ValueTask<bool> WatchAsync(int index, long seen, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Wakes the watchers of the value slot <paramref name="index"/>.</summary>
    ValueTask NotifyAsync(int index, CancellationToken cancellationToken);

    /// <summary>Runs an inspection of the broker's queues, locks or values (<see cref="InspectionCalls"/>).</summary>
    ValueTask<byte[]> InspectAsync(byte[] request, CancellationToken cancellationToken);
}

/// <summary>Locks and values as atomic instructions on <see cref="SlotMemory"/>, as Python's multiprocessing keeps
/// them in shared memory: after the first use of a name, an operation sends no message and allocates nothing. A lock
/// slot holds its holder's mark (the session's number and the owner's sequence) and its fencing token; the broker
/// frees the locks of a session whose connection ends, so a dead holder's locks are free at once.</summary>
internal sealed class SharedSlots(SlotMemory memory, ISlotDirectory directory, TimeProvider time) : ILockBackend, IValueBackend
{
    // A waiter spins while a holder is likely to be about to release, then sleeps in growing steps.
    private const int Spins = 50;
    private const int LongestSleepMs = 8;
    private readonly ConcurrentDictionary<string, SlotGrant> _locks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SlotGrant> _values = new(StringComparer.Ordinal);
    private readonly InspectionCalls.Locks _lockInspection = new(directory.InspectAsync);
    private readonly InspectionCalls.Values _valueInspection = new(directory.InspectAsync);

    ILockInspection ILockBackend.Inspection => _lockInspection;

    IValueInspection IValueBackend.Inspection => _valueInspection;

    public async ValueTask<LockLease?> AcquireAsync(string name, LockOwner owner, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var grant = await GrantAsync(_locks, name, SlotUse.Lock, default, cancellationToken).ConfigureAwait(false);
        var mark = Mark(grant, owner);
        if (!TryTake(grant.Index, mark, out var token))
        {
            if (timeout == TimeSpan.Zero)
            {
                return null;
            }
            token = await WaitToTakeAsync(grant.Index, mark, timeout, cancellationToken).ConfigureAwait(false);
            if (token == 0)
            {
                return null;
            }
        }
        return new LockLease(token, CancellationToken.None);
    }

    public ValueTask ReleaseAsync(string name, LockOwner owner, CancellationToken cancellationToken)
    {
        if (!_locks.TryGetValue(name, out var grant))
        {
            throw new LockNotOwnedException($"Lock '{name}' is not held by this owner.");
        }
        var mark = Mark(grant, owner);
        using var slot = memory.Open(grant.Index);
        var found = Interlocked.CompareExchange(ref slot.First, 0, mark);
        if (found != mark)
        {
            throw new LockNotOwnedException(found >> 32 == grant.Session
                ? $"Lock '{name}' is not held by this owner."
                : $"Lock '{name}' is not held by this owner, or was freed while held because its client's connection ended.");
        }
        return default;
    }

    public async ValueTask<bool> IsHeldAsync(string name, CancellationToken cancellationToken)
    {
        var grant = await GrantAsync(_locks, name, SlotUse.Lock, default, cancellationToken).ConfigureAwait(false);
        using var slot = memory.Open(grant.Index);
        return Volatile.Read(ref slot.First) != 0;
    }

    public async ValueTask InitializeAsync(string name, Scalar initial, CancellationToken cancellationToken) =>
        await GrantAsync(_values, name, SlotUse.Value, initial, cancellationToken).ConfigureAwait(false);

    public async ValueTask<Scalar> GetAsync(string name, ScalarKind kind, CancellationToken cancellationToken)
    {
        var grant = await GrantAsync(_values, name, SlotUse.Value, Scalar.Zero(kind), cancellationToken).ConfigureAwait(false);
        using var slot = memory.Open(grant.Index);
        return Scalar.FromBits(grant.Kind, Volatile.Read(ref slot.First)).As(kind);
    }

    public async ValueTask SetAsync(string name, Scalar value, CancellationToken cancellationToken)
    {
        var grant = await GrantAsync(_values, name, SlotUse.Value, Scalar.Zero(value.Kind), cancellationToken).ConfigureAwait(false);
        using var slot = memory.Open(grant.Index);
        Volatile.Write(ref slot.First, value.As(grant.Kind).Bits);
    }

    public async ValueTask<Scalar> AddAsync(string name, Scalar delta, CancellationToken cancellationToken)
    {
        var grant = await GrantAsync(_values, name, SlotUse.Value, Scalar.Zero(delta.Kind), cancellationToken).ConfigureAwait(false);
        using var slot = memory.Open(grant.Index);
        if (grant.Kind == ScalarKind.Integer && delta.Kind == ScalarKind.Integer)
        {
            return Scalar.FromInteger(Interlocked.Add(ref slot.First, delta.Integer));
        }
        var bits = Volatile.Read(ref slot.First);
        while (true)
        {
            var sum = Scalar.FromBits(grant.Kind, bits).Add(delta).As(grant.Kind);
            var seen = Interlocked.CompareExchange(ref slot.First, sum.Bits, bits);
            if (seen == bits)
            {
                return sum.As(delta.Kind);
            }
            bits = seen;
        }
    }

    public async ValueTask<Scalar> CompareExchangeAsync(string name, Scalar value, Scalar comparand, CancellationToken cancellationToken)
    {
        var grant = await GrantAsync(_values, name, SlotUse.Value, Scalar.Zero(value.Kind), cancellationToken).ConfigureAwait(false);
        using var slot = memory.Open(grant.Index);
        var replacement = value.As(grant.Kind).Bits;
        var bits = Volatile.Read(ref slot.First);
        while (true)
        {
            var current = Scalar.FromBits(grant.Kind, bits);
            if (!current.NumericallyEquals(comparand))
            {
                return current.As(value.Kind);
            }
            var seen = Interlocked.CompareExchange(ref slot.First, replacement, bits);
            if (seen == bits)
            {
                return current.As(value.Kind);
            }
            bits = seen;
        }
    }

    public async ValueTask<Scalar> WaitAsync(string name, Scalar seen, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var grant = await GrantAsync(_values, name, SlotUse.Value, Scalar.Zero(seen.Kind), cancellationToken).ConfigureAwait(false);
        var seenBits = seen.As(grant.Kind).Bits;
        var deadline = new Deadline(timeout, time);
        while (true)
        {
            long bits;
            using (var slot = memory.Open(grant.Index))
            {
                bits = Volatile.Read(ref slot.First);
            }
            if (bits != seenBits)
            {
                return Scalar.FromBits(grant.Kind, bits).As(seen.Kind);
            }
            // A notify with no change (or one for a change undone since) wakes the watch only to look again.
            var remaining = deadline.Remaining;
            if (remaining == TimeSpan.Zero || !await directory.WatchAsync(grant.Index, seenBits, remaining, cancellationToken).ConfigureAwait(false))
            {
                return seen;
            }
        }
    }

    public async ValueTask NotifyAsync(string name, CancellationToken cancellationToken)
    {
        var grant = await GrantAsync(_values, name, SlotUse.Value, default, cancellationToken).ConfigureAwait(false);
        await directory.NotifyAsync(grant.Index, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Frees the locks that <paramref name="session"/> holds in <paramref name="slots"/>: the broker's part
    /// when that session's connection ends.</summary>
    public static void FreeLocksOf(SlotMemory memory, int session, IEnumerable<int> slots)
    {
        foreach (var index in slots)
        {
            using var slot = memory.Open(index);
            var mark = Volatile.Read(ref slot.First);
            if (mark >> 32 == session)
            {
                Interlocked.CompareExchange(ref slot.First, 0, mark);
            }
        }
    }

    /// <summary>A holder's mark: its session's number, which the broker frees by, and its owner's sequence (unique in
    /// this process, so unique in the session, for 2^32 acquisitions).</summary>
    private static long Mark(SlotGrant grant, LockOwner owner) => ((long)grant.Session << 32) | (uint)owner.Sequence;

    // The slow path is a method of its own: a local function capturing the arguments would cost every call an allocation.
    private ValueTask<SlotGrant> GrantAsync(ConcurrentDictionary<string, SlotGrant> grants, string name, SlotUse use, Scalar initial, CancellationToken cancellationToken) =>
        grants.TryGetValue(name, out var grant) ? new(grant) : AskAsync(grants, name, use, initial, cancellationToken);

    private async ValueTask<SlotGrant> AskAsync(ConcurrentDictionary<string, SlotGrant> grants, string name, SlotUse use, Scalar initial, CancellationToken cancellationToken) =>
        grants[name] = await directory.SlotAsync(name, use, initial, cancellationToken).ConfigureAwait(false);

    private bool TryTake(int index, long mark, out long token)
    {
        using var slot = memory.Open(index);
        if (Interlocked.CompareExchange(ref slot.First, mark, 0) != 0)
        {
            token = 0;
            return false;
        }
        token = Interlocked.Increment(ref slot.Second);
        return true;
    }

    /// <summary>The fencing token once the lock is taken, or 0 if it stayed held for <paramref name="timeout"/>.</summary>
    private async ValueTask<long> WaitToTakeAsync(int index, long mark, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = new Deadline(timeout, time);
        var spinner = new SpinWait();
        var sleepMs = 1;
        while (true)
        {
            if (TryTake(index, mark, out var token))
            {
                return token;
            }
            cancellationToken.ThrowIfCancellationRequested();
            if (spinner.Count < Spins)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }
            if (!await deadline.PauseAsync(TimeSpan.FromMilliseconds(sleepMs), cancellationToken).ConfigureAwait(false))
            {
                return 0;
            }
            sleepMs = Math.Min(sleepMs * 2, LongestSleepMs);
        }
    }
}
