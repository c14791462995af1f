namespace Broker;

/// <summary>What a <see cref="Manager"/>'s dictionaries, lists and namespaces share: a handle on a collection the
/// broker keeps, which its manager's shutdown empties and ends.</summary>
public abstract class ManagedCollection : BrokerHandle
{
    private protected ManagedCollection(BrokerContext? broker, string? name, string kind)
        : base(broker, name, kind, create: false)
    {
    }

    /// <summary>The manager that made it, whose shutdown ends it; null for a handle attached by name.</summary>
    internal Manager? Owner { get; init; }

    /// <summary>The context, once the handle is known to be usable.</summary>
    private protected BrokerContext Usable
    {
        get
        {
            Owner?.ThrowIfShutDown(this);
            return Context;
        }
    }

    /// <summary>Removes what it holds on the broker, even once its manager is shut down.</summary>
    internal abstract ValueTask ClearOnBrokerAsync(CancellationToken cancellationToken);
}
