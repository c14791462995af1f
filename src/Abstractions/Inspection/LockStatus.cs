namespace Broker;

/// <summary>One lock as <see cref="BrokerInspector.LocksAsync"/> shows it.</summary>
/// <param name="Name">The lock's name (an <see cref="RLock"/>'s, a <see cref="Value{T}"/>'s own lock's).</param>
/// <param name="Holder">Who holds it, as its transport names the holder (on Redis, machine, pid and acquisition);
/// <c>null</c> while it is free.</param>
/// <param name="FencingToken">The token of its latest acquisition, which only grows; 0 if it was never held.</param>
/// <param name="LeaseLeft">How long the holder's lease runs before the transport frees the lock, unless the holder
/// renews it as it does while it lives; <c>null</c> while free, or where the transport frees a dead holder's lock
/// without a lease (the local broker, when its connection ends).</param>
public sealed record LockStatus(string Name, string? Holder, long FencingToken, TimeSpan? LeaseLeft);
