namespace Broker.Transport;

/// <summary>What an operator's tools read of the locks a transport keeps, without touching them.
/// <see cref="ILockBackend.Inspection"/> gives it.</summary>
public interface ILockInspection
{
    /// <summary>Every lock used in this URL's namespace, held or free, in no set order.</summary>
    ValueTask<IReadOnlyList<LockStatus>> ListAsync(CancellationToken cancellationToken);
}
