namespace Broker.Transport;

/// <summary>FIFO queues kept by the broker, a <see cref="Queue{T}"/>'s: an item put is the next consumer's, and an item
/// got is that consumer's for good. Timeouts are <see cref="Timeout.InfiniteTimeSpan"/> to wait for ever and
/// <see cref="TimeSpan.Zero"/> not to wait. <see cref="Joinable"/> is the same queues as a
/// <see cref="JoinableQueue{T}"/> uses them.</summary>
public interface IQueueBackend
{
    /// <summary>The largest item, in bytes, that this transport carries whole. <see cref="Queue{T}.PutAsync"/> refuses a
    /// larger one before it reaches the transport; a transport still accepts bodies of up to twice this size, so that an
    /// item at the limit fits its dead letter.</summary>
    int MaxItemSize { get; }

    /// <summary>The joinable side of the same queues: counted puts, takes that stay unfinished until done, and Join.</summary>
    IJoinableQueueBackend Joinable { get; }

    /// <summary>Creates the queue if it does not exist. <paramref name="maxSize"/> 0 means unbounded.</summary>
    /// <exception cref="QueueMaxSizeConflictException">The queue exists with another maxsize.</exception>
    ValueTask DeclareAsync(string queue, int maxSize, CancellationToken cancellationToken);

    /// <summary>Appends an item, waiting up to <paramref name="timeout"/> while the queue is full. Returns once the
    /// broker has accepted the item, or <c>false</c> if it stayed full. A transport may count the item for
    /// <see cref="IJoinableQueueBackend.JoinAsync"/> too, where counting costs nothing.</summary>
    ValueTask<bool> PutAsync(string queue, ReadOnlyMemory<byte> body, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Takes the oldest item, waiting up to <paramref name="timeout"/>; <c>null</c> if none came. The item is
    /// the caller's once returned; a transport may deliver it again if this client dies before it is returned.</summary>
    ValueTask<Delivery?> GetAsync(string queue, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Takes up to <paramref name="most"/> of the oldest items as <see cref="GetAsync"/> does, waiting up to
    /// <paramref name="timeout"/> for the first; empty if none came. Every item returned is the caller's: none is kept
    /// back. This one takes a single item; a transport that takes several in one trip overrides it.</summary>
    async ValueTask<IReadOnlyList<Delivery>> GetManyAsync(string queue, int most, TimeSpan timeout, CancellationToken cancellationToken) =>
        await GetAsync(queue, timeout, cancellationToken).ConfigureAwait(false) is { } delivery ? [delivery] : [];

    /// <summary>The number of items waiting in the queue (not counting items taken and not yet done).</summary>
    ValueTask<long> CountAsync(string queue, CancellationToken cancellationToken);

    /// <summary>Lists the queues and shows items without taking them, for operators' tools; <c>null</c> (the default)
    /// for a transport that cannot.</summary>
    IQueueInspection? Inspection => null;
}

/// <summary>The queues of <see cref="IQueueBackend"/> as a <see cref="JoinableQueue{T}"/> uses them: every item put here
/// counts as unfinished until a consumer that took it says it is done, and <see cref="JoinAsync"/> waits for none to
/// be left, in every process.</summary>
public interface IJoinableQueueBackend
{
    /// <summary>Appends an item as <see cref="IQueueBackend.PutAsync"/> does; it counts as unfinished from the moment
    /// this returns until it is done.</summary>
    ValueTask<bool> PutAsync(string queue, ReadOnlyMemory<byte> body, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Appends <paramref name="bodies"/> in their order as <see cref="PutAsync"/> does, each waiting for room as
    /// long as it takes, and returns once the broker has them all. This one puts them one after another; a transport
    /// that puts them in one trip overrides it, so that a consumer that takes the first finds the others there.</summary>
    async ValueTask PutAllAsync(string queue, IReadOnlyList<ReadOnlyMemory<byte>> bodies, CancellationToken cancellationToken)
    {
        foreach (var body in bodies)
        {
            await PutAsync(queue, body, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Takes the oldest item, waiting up to <paramref name="timeout"/>; <c>null</c> if none came. The item stays
    /// unfinished until <see cref="UnfinishedDelivery.DoneAsync"/>, and is delivered again, its
    /// <see cref="Delivery.Attempt"/> one higher, if this client's connection ends first.</summary>
    ValueTask<UnfinishedDelivery?> TakeAsync(string queue, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Waits until every item put has been taken and, where taken here, done; false if
    /// <paramref name="timeout"/> passed first.</summary>
    ValueTask<bool> JoinAsync(string queue, TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>An item taken from a queue.</summary>
/// <param name="queue">The queue it was taken from.</param>
/// <param name="body">The item's bytes, as they were stored.</param>
/// <param name="attempt">How many times it has been delivered, this time included.</param>
/// <param name="unreadable">Why the transport could not read what came with the item (a header, an envelope), or
/// <c>null</c>: the queue then sends it to its dead letters with <paramref name="body"/> as it came, and it counts as
/// done. A transport never throws for what it took.</param>
public class Delivery(string queue, ReadOnlyMemory<byte> body, int attempt = 1, string? unreadable = null)
{
    /// <summary>The queue it was taken from.</summary>
    public string Queue { get; } = queue;

    /// <summary>The item's bytes, owned by this delivery.</summary>
    public ReadOnlyMemory<byte> Body { get; } = body;

    /// <summary>How many times the item has been delivered, this time included: more than 1 when a consumer that took
    /// it ended before acknowledging it.</summary>
    public int Attempt { get; } = attempt;

    /// <summary>Why what came with the item could not be read, or <c>null</c>.</summary>
    public string? Unreadable { get; } = unreadable;
}

/// <summary>An item taken from a joinable queue and not done yet: the handle its consumer finishes it with. A
/// transport subclasses it with what finishing needs (a delivery tag, a lease), so nothing casts it back.</summary>
/// <inheritdoc cref="Delivery(string, ReadOnlyMemory{byte}, int, string?)" path="/param"/>
public abstract class UnfinishedDelivery(string queue, ReadOnlyMemory<byte> body, int attempt = 1, string? unreadable = null)
    : Delivery(queue, body, attempt, unreadable)
{
    /// <summary>Marks the item done: it no longer counts for <see cref="IJoinableQueueBackend.JoinAsync"/>, and it is
    /// not delivered again. Called once per item.</summary>
    public abstract ValueTask DoneAsync(CancellationToken cancellationToken);
}

/// <summary>Mutual-exclusion locks with owners and fencing tokens.</summary>
public interface ILockBackend
{
    /// <summary>Acquires <paramref name="name"/> for <paramref name="owner"/>, waiting up to
    /// <paramref name="timeout"/>; <c>null</c> if it stayed held. A lock whose holder dies is freed.</summary>
    ValueTask<LockLease?> AcquireAsync(string name, LockOwner owner, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Releases the lock held by <paramref name="owner"/>.</summary>
    /// <exception cref="LockNotOwnedException"><paramref name="owner"/> does not hold it.</exception>
    ValueTask ReleaseAsync(string name, LockOwner owner, CancellationToken cancellationToken);

    /// <summary>Whether any owner holds <paramref name="name"/> at this moment. A dead holder's lock counts as held
    /// until the transport frees it.</summary>
    ValueTask<bool> IsHeldAsync(string name, CancellationToken cancellationToken);

    /// <summary>Lists the locks with their holders, for operators' tools; <c>null</c> (the default) for a transport
    /// that cannot.</summary>
    ILockInspection? Inspection => null;
}

/// <summary>A held lock: its fencing token, which only grows from one acquisition to the next, and a token that
/// fires if the transport learns the lock was lost (its lease could not be renewed).</summary>
public readonly record struct LockLease(long FencingToken, CancellationToken Lost);

/// <summary>One acquisition of a lock by this process: a number no other acquisition in the process shares. Its
/// <see cref="ToString"/> also names the process (machine, pid and a random part, as restarted containers reuse both)
/// for a broker that others read; a lock in this machine's memory keeps only the number, and a held lock costs no
/// allocation.</summary>
public readonly record struct LockOwner(long Sequence)
{
    private static readonly string s_process = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
    private static long s_last;

    /// <summary>An owner no other acquisition in this process has had.</summary>
    public static LockOwner New() => new(Interlocked.Increment(ref s_last));

    /// <inheritdoc/>
    public override string ToString() => $"{s_process}:{Sequence}";
}

/// <summary>Named numbers. A name that was never set reads as zero.</summary>
public interface IValueBackend
{
    /// <summary>Sets <paramref name="initial"/> unless the value exists already, so that a second handle on a named
    /// value does not reset it.</summary>
    ValueTask InitializeAsync(string name, Scalar initial, CancellationToken cancellationToken);

    /// <summary>Reads the number <paramref name="name"/> holds, as <paramref name="kind"/>.</summary>
    ValueTask<Scalar> GetAsync(string name, ScalarKind kind, CancellationToken cancellationToken);

    /// <summary>Sets the number <paramref name="name"/> holds.</summary>
    ValueTask SetAsync(string name, Scalar value, CancellationToken cancellationToken);

    /// <summary>Adds atomically and returns the new value.</summary>
    ValueTask<Scalar> AddAsync(string name, Scalar delta, CancellationToken cancellationToken);

    /// <summary>Sets <paramref name="value"/> if the current value equals <paramref name="comparand"/>;
    /// returns the value found either way.</summary>
    ValueTask<Scalar> CompareExchangeAsync(string name, Scalar value, Scalar comparand, CancellationToken cancellationToken);

    /// <summary>Waits until the number <paramref name="name"/> holds is not <paramref name="seen"/>, as a futex or C++'s
    /// <c>atomic::wait</c> does, and returns it (as <paramref name="seen"/>'s kind); returns <paramref name="seen"/> if
    /// <paramref name="timeout"/> passed first. A change made before the call returns at once, and no notify is ever
    /// missed between the look and the wait.</summary>
    ValueTask<Scalar> WaitAsync(string name, Scalar seen, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Wakes the <see cref="WaitAsync"/> calls on <paramref name="name"/> in every process, so that each
    /// looks again; made after a change that waiters wait for. Returns once the broker has the wake-up: a waiter whose
    /// look comes later sees the change.</summary>
    ValueTask NotifyAsync(string name, CancellationToken cancellationToken);

    /// <summary>Lists the numbers, for operators' tools; <c>null</c> (the default) for a transport that cannot.</summary>
    IValueInspection? Inspection => null;
}
