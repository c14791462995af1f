using Broker.Transport;

namespace Broker;

/// <summary>A barrier for a fixed number of parties in any processes, like <c>multiprocessing.Barrier</c>: each
/// party's <see cref="Wait"/> returns once all have arrived, and the barrier is ready for the next round.</summary>
/// <remarks>
/// <para>Python's <c>threading.Barrier</c>, step for step, over a <see cref="Condition"/> and numbers on the broker.
/// Better than Python: a party that dies while others wait breaks the barrier for them, within
/// <see cref="DeadPartyLook"/> of its locks being freed (at once on the local broker, when the lease ends on
/// Redis), where Python's waiters wait for ever. Each waiting party holds a lock of its own for that.</para>
/// <para>The action runs in the process of the party that arrives last, if that party's handle was given one: a
/// delegate cannot travel, so a handle passed to a child has no action of its own. The default timeout travels.</para>
/// <para>With implicit usings, <c>System.Threading.Barrier</c> shares this name: put <c>using Broker;</c> after your
/// <c>namespace</c> line, where it takes precedence.</para>
/// </remarks>
public sealed class Barrier : BrokerHandle
{
    /// <summary>How often a waiting party looks for a party that died waiting.</summary>
    public static readonly TimeSpan DeadPartyLook = TimeSpan.FromMilliseconds(250);

    private const string Kind = "barrier";

    // Python's states: filling, draining (released, parties leaving), resetting, broken.
    private const long FillingState = 0;
    private const long DrainingState = 1;
    private const long ResettingState = -1;
    private const long BrokenState = -2;

    private readonly Action? _action;
    private readonly TimeSpan? _timeout;
    private readonly Condition _condition;

    /// <param name="parties">How many parties each round waits for, 1 or more.</param>
    /// <param name="action">Run by the last party to arrive, before the others are released; if it throws, the
    /// barrier breaks.</param>
    /// <param name="timeout">The timeout of a <see cref="Wait"/> that gives none; null waits without limit.</param>
    /// <param name="name">The barrier's name on the broker; a unique one by default. A named barrier that exists
    /// already must have been made with the same <paramref name="parties"/>.</param>
    /// <param name="broker">The broker; <see cref="BrokerContext.Default"/> by default.</param>
    public Barrier(int parties, Action? action = null, TimeSpan? timeout = null, string? name = null, BrokerContext? broker = null)
        : this(parties, action, timeout, name, broker, create: true)
    {
    }

    private Barrier(int parties, Action? action, TimeSpan? timeout, string? name, BrokerContext? broker, bool create)
        : base(broker, name, Kind, create)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parties, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(parties, Semaphore.MaxValue);
        Timeouts.From(timeout);
        Parties = parties;
        _action = action;
        _timeout = timeout;
        _condition = new Condition(new RLock($"{Name}:lock", Context), $"{Name}:condition", Context);
    }

    /// <summary>How many parties each round waits for, Python's <c>parties</c>.</summary>
    public int Parties { get; }

    private IValueBackend Values => Context.Values;

    private string State => $"{Name}:state";
    private string Count => $"{Name}:count";
    private string Made => $"{Name}:parties";
    private string Waiting(long index) => $"{Name}:waiting:{index}";
    private string Presence(long index) => $"{Name}:presence:{index}";

    /// <summary>Waits until every party has arrived, up to <paramref name="timeout"/> (null: the barrier's own),
    /// Python's <c>wait(timeout)</c>: returns this party's index in the round, 0 to <see cref="Parties"/> - 1, a
    /// different one for each.</summary>
    /// <exception cref="BrokenBarrierException">The barrier is broken, or broke while this party waited: reset,
    /// aborted, timed out (this party's timeout breaks it for all, as in Python), its action threw, or a party died.</exception>
    public async ValueTask<int> WaitAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var deadline = new Deadline(Timeouts.From(timeout ?? _timeout), Context.Options.TimeProvider);
        await using var scope = await _condition.EnterScopeAsync(null, cancellationToken).ConfigureAwait(false);
        // Wait while the last round drains, as Python's _enter does.
        while (await StateAsync() is DrainingState or ResettingState)
        {
            await WaitAWhileAsync(DeadPartyLook, cancellationToken).ConfigureAwait(false);
        }
        if (await StateAsync() == BrokenState)
        {
            throw BrokenError();
        }
        var index = (await Values.GetAsync(Count, ScalarKind.Integer, cancellationToken).ConfigureAwait(false)).Integer;
        var presence = LockOwner.New();
        if (await Context.Locks.AcquireAsync(Presence(index), presence, TimeSpan.Zero, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new BrokenBarrierException($"Barrier '{Name}': party {index}'s place is still held by a party that left it.");
        }
        await Values.SetAsync(Waiting(index), Scalar.FromInteger(1), cancellationToken).ConfigureAwait(false);
        await Values.SetAsync(Count, Scalar.FromInteger(index + 1), cancellationToken).ConfigureAwait(false);
        try
        {
            if (index + 1 == Parties)
            {
                await ReleaseRoundAsync().ConfigureAwait(false);
            }
            else
            {
                await WaitForReleaseAsync(deadline, cancellationToken).ConfigureAwait(false);
            }
            return (int)index;
        }
        finally
        {
            await LeaveAsync(index, presence).ConfigureAwait(false);
        }
    }

    /// <summary>Puts the barrier back to empty, Python's <c>reset()</c>: parties waiting now raise
    /// <see cref="BrokenBarrierException"/>.</summary>
    public async ValueTask ResetAsync(CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        await using var scope = await _condition.EnterScopeAsync(null, cancellationToken).ConfigureAwait(false);
        if ((await Values.GetAsync(Count, ScalarKind.Integer, cancellationToken).ConfigureAwait(false)).Integer > 0)
        {
            if (await StateAsync() is FillingState or BrokenState)
            {
                await SetStateAsync(ResettingState).ConfigureAwait(false);
            }
        }
        else
        {
            await SetStateAsync(FillingState).ConfigureAwait(false);
        }
        await _condition.NotifyAllAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Breaks the barrier, Python's <c>abort()</c>: parties waiting now and arriving later raise
    /// <see cref="BrokenBarrierException"/> until <see cref="Reset"/>.</summary>
    public async ValueTask AbortAsync(CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        await using var scope = await _condition.EnterScopeAsync(null, cancellationToken).ConfigureAwait(false);
        await BreakAsync().ConfigureAwait(false);
    }

    /// <summary>How many parties wait in the current round, Python's <c>n_waiting</c>.</summary>
    public async ValueTask<int> NWaitingAsync(CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        await using var scope = await _condition.EnterScopeAsync(null, cancellationToken).ConfigureAwait(false);
        return await StateAsync() == FillingState
            ? (int)(await Values.GetAsync(Count, ScalarKind.Integer, cancellationToken).ConfigureAwait(false)).Integer
            : 0;
    }

    /// <summary>Whether the barrier is broken, Python's <c>broken</c>.</summary>
    public async ValueTask<bool> BrokenAsync(CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        return (await Values.GetAsync(State, ScalarKind.Integer, cancellationToken).ConfigureAwait(false)).Integer == BrokenState;
    }

    /// <summary>Python's <c>wait(timeout=None)</c>.</summary>
    public int Wait(TimeSpan? timeout = null) => Sync.Run(WaitAsync(timeout));

    /// <summary>Python's <c>reset()</c>.</summary>
    public void Reset() => Sync.Run(ResetAsync());

    /// <summary>Python's <c>abort()</c>.</summary>
    public void Abort() => Sync.Run(AbortAsync());

    /// <summary>Python's <c>n_waiting</c>.</summary>
    public int NWaiting() => Sync.Run(NWaitingAsync());

    /// <summary>Python's <c>broken</c>.</summary>
    public bool Broken() => Sync.Run(BrokenAsync());

    private protected override async Task CreateAsync(CancellationToken cancellationToken) =>
        await Values.EnsureMadeWithAsync(Made, Parties, $"Barrier '{Name}' exists with {{0}} parties, not {{1}}.", "parties", cancellationToken).ConfigureAwait(false);

    /// <summary>The last party's part, Python's <c>_release</c>: the action, then the round is released.</summary>
    private async ValueTask ReleaseRoundAsync()
    {
        try
        {
            _action?.Invoke();
        }
        catch
        {
            await BreakAsync().ConfigureAwait(false);
            throw;
        }
        await SetStateAsync(DrainingState).ConfigureAwait(false);
        await _condition.NotifyAllAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Python's <c>_wait</c>: until the round is released or broken; a timeout breaks it.</summary>
    private async ValueTask WaitForReleaseAsync(Deadline deadline, CancellationToken cancellationToken)
    {
        while (await StateAsync() == FillingState)
        {
            var pause = deadline.Pause(DeadPartyLook);
            if (pause == TimeSpan.Zero)
            {
                await BreakAsync().ConfigureAwait(false);
                throw new BrokenBarrierException($"Barrier '{Name}' broke: a party's wait timed out after {deadline.Timeout}.");
            }
            await WaitAWhileAsync(pause, cancellationToken).ConfigureAwait(false);
        }
        if (await StateAsync() != DrainingState)
        {
            throw BrokenError();
        }
    }

    /// <summary>Python's <c>_exit</c>, after this party leaves its place: the last to leave a drained or reset round
    /// opens the next.</summary>
    private async ValueTask LeaveAsync(long index, LockOwner presence)
    {
        var count = await Values.AddAsync(Count, Scalar.FromInteger(-1), CancellationToken.None).ConfigureAwait(false);
        await Values.SetAsync(Waiting(index), Scalar.FromInteger(0), CancellationToken.None).ConfigureAwait(false);
        await Context.Locks.ReleaseAsync(Presence(index), presence, CancellationToken.None).ConfigureAwait(false);
        await OpenIfEmptyAsync(count.Integer).ConfigureAwait(false);
    }

    private async ValueTask OpenIfEmptyAsync(long count)
    {
        if (count == 0 && await StateAsync() is DrainingState or ResettingState)
        {
            await SetStateAsync(FillingState).ConfigureAwait(false);
            await _condition.NotifyAllAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Waits on the condition for a notify or <paramref name="pause"/>, then takes the place of any party
    /// that died waiting: one that is waiting by the counts but whose lock is free. Its death breaks the barrier.</summary>
    private async ValueTask WaitAWhileAsync(TimeSpan pause, CancellationToken cancellationToken)
    {
        await _condition.WaitAsync(pause, cancellationToken).ConfigureAwait(false);
        var died = false;
        for (var index = 0; index < Parties; index++)
        {
            if ((await Values.GetAsync(Waiting(index), ScalarKind.Integer, cancellationToken).ConfigureAwait(false)).Integer == 1
                && !await Context.Locks.IsHeldAsync(Presence(index), cancellationToken).ConfigureAwait(false))
            {
                await Values.SetAsync(Waiting(index), Scalar.FromInteger(0), CancellationToken.None).ConfigureAwait(false);
                var count = await Values.AddAsync(Count, Scalar.FromInteger(-1), CancellationToken.None).ConfigureAwait(false);
                died = true;
                await OpenIfEmptyAsync(count.Integer).ConfigureAwait(false);
            }
        }
        if (died)
        {
            await BreakAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask BreakAsync()
    {
        await SetStateAsync(BrokenState).ConfigureAwait(false);
        await _condition.NotifyAllAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private async ValueTask<long> StateAsync() =>
        (await Values.GetAsync(State, ScalarKind.Integer, CancellationToken.None).ConfigureAwait(false)).Integer;

    private ValueTask SetStateAsync(long state) => Values.SetAsync(State, Scalar.FromInteger(state), CancellationToken.None);

    private BrokenBarrierException BrokenError() => new($"Barrier '{Name}' is broken: reset it to use it again.");

    internal override HandleDescriptor Describe() => new(Kind, Name, Parties, Timeout: _timeout);

    internal static Barrier Attach(BrokerContext broker, HandleDescriptor descriptor) =>
        new(descriptor.Size, null, descriptor.Timeout, descriptor.Name, broker, create: false);
}
