namespace Broker.Transport;

/// <summary>FIFO queues kept by the broker. Timeouts are <see cref="Timeout.InfiniteTimeSpan"/> to wait for ever
/// and <see cref="TimeSpan.Zero"/> not to wait.</summary>
public interface IQueueBackend
{
    /// <summary>The largest item, in bytes, that this transport carries whole. <see cref="Queue{T}.PutAsync"/> refuses a
    /// larger one before it reaches the transport; a transport still accepts bodies of up to twice this size, so that an
    /// item at the limit fits its dead letter.</summary>
    int MaxItemSize { get; }

    /// <summary>Creates the queue if it does not exist. <paramref name="maxSize"/> 0 means unbounded.</summary>
    /// <exception cref="QueueMaxSizeConflictException">The queue exists with another maxsize.</exception>
    ValueTask DeclareAsync(string queue, int maxSize, CancellationToken cancellationToken);

    /// <summary>Appends an item, waiting up to <paramref name="timeout"/> while the queue is full. Returns once the
    /// broker has accepted the item, or <c>false</c> if it stayed full. A <paramref name="joinable"/> item (a
    /// <see cref="JoinableQueue{T}"/>'s) counts as unfinished for <see cref="JoinAsync"/> until it is acknowledged;
    /// a transport may count every item, where counting costs nothing.</summary>
    ValueTask<bool> PutAsync(string queue, ReadOnlyMemory<byte> body, bool joinable, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Takes the oldest item, waiting up to <paramref name="timeout"/>; <c>null</c> if none came.
    /// With <paramref name="acknowledge"/> the item stays unfinished until <see cref="AckAsync"/>, and goes back to
    /// the queue if this client's connection ends first.</summary>
    ValueTask<Delivery?> GetAsync(string queue, bool acknowledge, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Takes up to <paramref name="most"/> of the oldest items without acknowledgement, waiting up to
    /// <paramref name="timeout"/> for the first; empty if none came. Every item returned is the caller's: none is kept
    /// back. This one takes a single item; a transport that takes several in one trip overrides it.</summary>
    async ValueTask<IReadOnlyList<Delivery>> GetManyAsync(string queue, int most, TimeSpan timeout, CancellationToken cancellationToken) =>
        await GetAsync(queue, acknowledge: false, timeout, cancellationToken).ConfigureAwait(false) is { } delivery ? [delivery] : [];

    /// <summary>Marks an item taken with acknowledgement as done.</summary>
    ValueTask AckAsync(Delivery delivery, CancellationToken cancellationToken);

    /// <summary>The number of items waiting in the queue (not counting items taken and not yet done).</summary>
    ValueTask<long> CountAsync(string queue, CancellationToken cancellationToken);

    /// <summary>Waits until every item put has been taken and, where taken with acknowledgement, acknowledged.</summary>
    ValueTask<bool> JoinAsync(string queue, TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>An item taken from a queue. A transport subclasses it to carry what its acknowledgement needs.</summary>
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
}
