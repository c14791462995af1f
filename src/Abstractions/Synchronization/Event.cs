using Broker.Transport;

namespace Broker;

/// <summary>A flag shared by processes, like <c>multiprocessing.Event</c>: <see cref="Set"/> wakes every process
/// waiting in <see cref="Wait"/> at once, and later waits return at once until <see cref="Clear"/>.</summary>
/// <remarks>The flag is a number on the broker that only grows: odd while set. A wait that saw it even returns
/// <c>true</c> for any change, so a <c>Set</c> followed at once by a <c>Clear</c> still wakes every waiter, as
/// Python's <c>threading.Event</c> does.</remarks>
public sealed class Event : BrokerHandle
{
    private const string Kind = "event";

    /// <param name="name">The event's name on the broker; a unique one by default.</param>
    /// <param name="broker">The broker; <see cref="BrokerContext.Default"/> by default.</param>
    public Event(string? name = null, BrokerContext? broker = null)
        : base(broker, name, Kind, create: false)
    {
        State = $"{Name}:state";
    }

    private string State { get; }

    private IValueBackend Values => Context.Values;

    /// <summary>Whether the flag is set, Python's <c>is_set()</c>.</summary>
    public async ValueTask<bool> IsSetAsync(CancellationToken cancellationToken = default) =>
        IsOdd(await Values.GetAsync(State, ScalarKind.Integer, cancellationToken).ConfigureAwait(false));

    /// <summary>Sets the flag and wakes every waiter, Python's <c>set()</c>.</summary>
    public async ValueTask SetAsync(CancellationToken cancellationToken = default)
    {
        if (await FlipAsync(toSet: true, cancellationToken).ConfigureAwait(false))
        {
            await Values.NotifyAsync(State, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Clears the flag, Python's <c>clear()</c>.</summary>
    public async ValueTask ClearAsync(CancellationToken cancellationToken = default) =>
        await FlipAsync(toSet: false, cancellationToken).ConfigureAwait(false);

    /// <summary>Waits until the flag is set, up to <paramref name="timeout"/> (null: without limit), Python's
    /// <c>wait(timeout)</c>: <c>true</c> if it was set before the call or while it waited.</summary>
    public async ValueTask<bool> WaitAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var wait = Timeouts.From(timeout);
        var seen = await Values.GetAsync(State, ScalarKind.Integer, cancellationToken).ConfigureAwait(false);
        if (IsOdd(seen) || wait == TimeSpan.Zero)
        {
            return IsOdd(seen);
        }
        var found = await Values.WaitAsync(State, seen, wait, cancellationToken).ConfigureAwait(false);
        return found.Integer != seen.Integer;
    }

    /// <summary>Python's <c>is_set()</c>.</summary>
    public bool IsSet() => Sync.Run(IsSetAsync());

    /// <summary>Python's <c>set()</c>.</summary>
    public void Set() => Sync.Run(SetAsync());

    /// <summary>Python's <c>clear()</c>.</summary>
    public void Clear() => Sync.Run(ClearAsync());

    /// <summary>Python's <c>wait(timeout=None)</c>.</summary>
    public bool Wait(TimeSpan? timeout = null) => Sync.Run(WaitAsync(timeout));

    /// <summary>Moves the number to the next odd (set) or even (clear) one; false if it was that already.</summary>
    private ValueTask<bool> FlipAsync(bool toSet, CancellationToken cancellationToken) =>
        Values.TryStepAsync(State, 1, state => IsOdd(state) != toSet, cancellationToken);

    private static bool IsOdd(Scalar state) => IsOdd(state.Integer);

    private static bool IsOdd(long state) => (state & 1) == 1;

    internal override HandleDescriptor Describe() => new(Kind, Name);

    internal static Event Attach(BrokerContext broker, HandleDescriptor descriptor) => new(descriptor.Name, broker);
}
