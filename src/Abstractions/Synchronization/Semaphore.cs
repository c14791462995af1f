using Broker.Transport;

namespace Broker;

/// <summary>A counter of permits shared by processes, like <c>multiprocessing.Semaphore</c>: <see cref="Acquire"/>
/// takes a permit, waiting while there is none, and <see cref="Release"/> gives one.</summary>
/// <remarks>
/// <para>The permits a semaphore is made with are owned: each is a lock on the broker, so a process that dies holding
/// some gives them back as its locks are freed (at once on the local broker, when the lease ends on Redis), and a
/// waiter takes them within <see cref="FreedPermitLook"/> of that.</para>
/// <para>A <see cref="Release"/> in a process that holds none of this semaphore's permits adds a permit nobody owns,
/// as Python allows (a semaphore used as a signal, made with 0 permits, works this way). Such a permit is used up
/// by the process that acquires it: if that process dies, it does not come back. <see cref="BoundedSemaphore"/>
/// refuses such a release.</para>
/// <para>With implicit usings, <c>System.Threading.Semaphore</c> shares this name: put <c>using Broker;</c> after
/// your <c>namespace</c> line, where it takes precedence.</para>
/// </remarks>
public class Semaphore : BrokerHandle
{
    /// <summary>The most permits a semaphore is made with: each is a lock that a waiting acquire tries.</summary>
    public const int MaxValue = 1024;

    /// <summary>How often a waiting acquire looks for permits freed by a process that died, which no release
    /// announces; a release wakes it at once.</summary>
    public static readonly TimeSpan FreedPermitLook = TimeSpan.FromMilliseconds(250);

    private const string PlainKind = "semaphore";
    private readonly string _kind;

    /// <param name="value">The permits it starts with, 0 to <see cref="MaxValue"/>.</param>
    /// <param name="name">The semaphore's name on the broker; a unique one by default. A named semaphore that exists
    /// already must have been made with the same <paramref name="value"/>.</param>
    /// <param name="broker">The broker; <see cref="BrokerContext.Default"/> by default.</param>
    public Semaphore(int value = 1, string? name = null, BrokerContext? broker = null)
        : this(PlainKind, value, name, broker, create: true)
    {
    }

    private protected Semaphore(string kind, int value, string? name, BrokerContext? broker, bool create)
        : base(broker, name, kind, create)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxValue);
        _kind = kind;
        InitialValue = value;
    }

    /// <summary>The permits it was made with, each owned by whoever acquires it.</summary>
    public int InitialValue { get; }

    private protected virtual bool Bounded => false;

    private string Unowned => $"{Name}:unowned";
    private string Released => $"{Name}:released";
    private string Made => $"{Name}:value";
    private string Permit(int index) => $"{Name}:permit:{index}";

    /// <summary>Takes a permit, waiting up to <paramref name="timeout"/> (null: without limit); false if none came.</summary>
    public async ValueTask<bool> AcquireAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var deadline = new Deadline(Timeouts.From(timeout), Context.Options.TimeProvider);
        return await Context.Values.TryUntilAsync(Released, deadline, FreedPermitLook, TryTakeAsync, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Gives back a permit this process holds, or, if it holds none, adds one nobody owns.</summary>
    /// <exception cref="SemaphoreFullException">A <see cref="BoundedSemaphore"/> released by a process that holds none of its permits.</exception>
    /// <exception cref="LockNotOwnedException">The permit was given back already, because its lease ended while held.</exception>
    public async ValueTask ReleaseAsync(CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        if (Context.HeldPermits(Name).TryPop(out var held))
        {
            await Context.Locks.ReleaseAsync(Permit(held.Index), held.Owner, cancellationToken).ConfigureAwait(false);
        }
        else if (Bounded)
        {
            throw new SemaphoreFullException($"BoundedSemaphore '{Name}' was released more often than this process acquired it.");
        }
        else
        {
            await Context.Values.AddAsync(Unowned, Scalar.FromInteger(1), cancellationToken).ConfigureAwait(false);
        }
        await Context.Values.AddAsync(Released, Scalar.FromInteger(1), cancellationToken).ConfigureAwait(false);
        await Context.Values.NotifyAsync(Released, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The permits free at this moment, Python's <c>get_value()</c>: a moment's view, which may have changed
    /// by the time the caller reads it.</summary>
    public async ValueTask<int> GetValueAsync(CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var free = (int)(await Context.Values.GetAsync(Unowned, ScalarKind.Integer, cancellationToken).ConfigureAwait(false)).Integer;
        for (var i = 0; i < InitialValue; i++)
        {
            if (!await Context.Locks.IsHeldAsync(Permit(i), cancellationToken).ConfigureAwait(false))
            {
                free++;
            }
        }
        return free;
    }

    /// <summary>Takes a permit for a <c>using</c> scope, like <c>with semaphore:</c>.</summary>
    /// <exception cref="TimeoutException">No permit came within the timeout.</exception>
    public async ValueTask<SemaphoreScope> EnterScopeAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        await AcquireAsync(timeout, cancellationToken).ConfigureAwait(false)
            ? new SemaphoreScope(this)
            : throw new TimeoutException($"{GetType().Name} '{Name}' had no permit free for {timeout}.");

    /// <summary>Python's <c>acquire(block=True, timeout=None)</c>.</summary>
    public bool Acquire(bool block = true, TimeSpan? timeout = null) => Sync.Run(AcquireAsync(Timeouts.From(block, timeout)));

    /// <summary>Python's <c>release()</c>.</summary>
    public void Release() => Sync.Run(ReleaseAsync());

    /// <summary>Python's <c>get_value()</c>.</summary>
    public int GetValue() => Sync.Run(GetValueAsync());

    /// <inheritdoc cref="EnterScopeAsync"/>
    public SemaphoreScope EnterScope(TimeSpan? timeout = null) => Sync.Run(EnterScopeAsync(timeout));

    private protected override async Task CreateAsync(CancellationToken cancellationToken) =>
        await Context.Values.EnsureMadeWithAsync(Made, InitialValue, $"{GetType().Name} '{Name}' exists with {{0}} permits, not {{1}}.", "value", cancellationToken).ConfigureAwait(false);

    /// <summary>A permit nobody owns first, then the owned ones, starting at a random one so that waiters spread out.</summary>
    private async ValueTask<bool> TryTakeAsync(CancellationToken cancellationToken)
    {
        if (await Context.Values.TryStepAsync(Unowned, -1, static unowned => unowned > 0, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }
        var start = InitialValue > 1 ? Random.Shared.Next(InitialValue) : 0;
        for (var i = 0; i < InitialValue; i++)
        {
            var index = (start + i) % InitialValue;
            var owner = LockOwner.New();
            if (await Context.Locks.AcquireAsync(Permit(index), owner, TimeSpan.Zero, cancellationToken).ConfigureAwait(false) is not null)
            {
                Context.HeldPermits(Name).Push(new HeldPermit(index, owner));
                return true;
            }
        }
        return false;
    }

    internal override HandleDescriptor Describe() => new(_kind, Name, InitialValue);

    // A bounded one passed where a plain one is declared stays bounded.
    internal static Semaphore Attach(BrokerContext broker, HandleDescriptor descriptor) =>
        descriptor.Kind == BoundedSemaphore.Kind
            ? BoundedSemaphore.Attach(broker, descriptor)
            : new Semaphore(PlainKind, descriptor.Size, descriptor.Name, broker, create: false);
}

/// <summary>A <see cref="Semaphore"/> whose permits are all owned, like <c>multiprocessing.BoundedSemaphore</c>: a
/// release by a process that holds none of its permits raises, where Python raises <c>ValueError</c> for a release
/// past the initial value.</summary>
/// <remarks>Python lets one process release a permit another acquired, as long as the count stays within the initial
/// value; here only a holder releases, so that a process that dies gives back exactly what it held.</remarks>
public sealed class BoundedSemaphore : Semaphore
{
    internal const string Kind = "boundedsemaphore";

    /// <inheritdoc cref="Semaphore(int, string?, BrokerContext?)"/>
    public BoundedSemaphore(int value = 1, string? name = null, BrokerContext? broker = null)
        : base(Kind, value, name, broker, create: true)
    {
    }

    private BoundedSemaphore(BrokerContext broker, HandleDescriptor descriptor)
        : base(Kind, descriptor.Size, descriptor.Name, broker, create: false)
    {
    }

    private protected override bool Bounded => true;

    internal static new BoundedSemaphore Attach(BrokerContext broker, HandleDescriptor descriptor) => new(broker, descriptor);
}

/// <summary>One of a semaphore's owned permits held by this process: which, and the owner that holds its lock.</summary>
internal readonly record struct HeldPermit(int Index, LockOwner Owner);

/// <summary>A permit taken by <see cref="Semaphore.EnterScope"/>, given back when disposed.</summary>
public sealed class SemaphoreScope : IAsyncDisposable, IDisposable
{
    private readonly Semaphore _semaphore;
    private int _released;

    internal SemaphoreScope(Semaphore semaphore) => _semaphore = semaphore;

    /// <summary>Gives the permit back.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            await _semaphore.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Gives the permit back, as leaving Python's <c>with</c> block does.</summary>
    public void Dispose() => Sync.Run(DisposeAsync());
}
