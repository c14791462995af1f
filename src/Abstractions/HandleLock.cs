namespace Broker;

/// <summary>The lock a <see cref="Value{T}"/> or <see cref="Array{T}"/> hands out with <c>GetLock()</c>, as Python's
/// <c>lock=</c> argument chooses it: an RLock of its own by default, one the caller gave, or none at all. It travels to
/// a child with the handle.</summary>
internal sealed class HandleLock
{
    private const string None = "none";
    private readonly string _owner;
    private readonly Lazy<LockHandle>? _lock;

    private HandleLock(string owner, Lazy<LockHandle>? @lock, string? descriptor)
    {
        _owner = owner;
        _lock = @lock;
        Descriptor = descriptor;
    }

    /// <summary>What a child needs to reach the same lock: null for the handle's own.</summary>
    public string? Descriptor { get; }

    public static HandleLock For(BrokerHandle owner, LockHandle? given, bool synchronized)
    {
        if (given is not null && !synchronized)
        {
            throw new ArgumentException($"{owner} is given a lock and synchronized: false at once; choose one.", nameof(synchronized));
        }
        return !synchronized ? new(Describe(owner), null, None)
            : given is not null ? new(Describe(owner), new(given), $"{(given is RLock ? "rlock" : "lock")}:{given.Name}")
            : Own(owner);
    }

    public static HandleLock Attach(BrokerHandle owner, string? descriptor) => descriptor switch
    {
        null => Own(owner),
        None => new(Describe(owner), null, None),
        _ when descriptor.Split(':', 2) is ["rlock", var name] => new(Describe(owner), new(() => new RLock(name, owner.Context)), descriptor),
        _ when descriptor.Split(':', 2) is ["lock", var name] => new(Describe(owner), new(() => new Lock(name, owner.Context)), descriptor),
        _ => throw new BrokerSerializationException($"{owner} came with a lock described as '{descriptor}', which names no lock."),
    };

    /// <exception cref="InvalidOperationException">The handle was made with <c>synchronized: false</c>.</exception>
    public LockHandle Get() =>
        _lock?.Value ?? throw new InvalidOperationException($"{_owner} was made with synchronized: false and has no lock (Python's RawValue and RawArray).");

    private static string Describe(BrokerHandle owner) => $"{owner.GetType().Name.Split('`')[0]} '{owner.Name}'";

    private static HandleLock Own(BrokerHandle owner) => new(Describe(owner), new(() => new RLock(owner.Name + ".lock", owner.Context)), null);
}
