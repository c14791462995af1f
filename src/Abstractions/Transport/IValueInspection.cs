namespace Broker.Transport;

/// <summary>What an operator's tools read of the numbers a transport keeps, without changing them.
/// <see cref="IValueBackend.Inspection"/> gives it.</summary>
public interface IValueInspection
{
    /// <summary>Every value and array element set in this URL's namespace, the synchronization primitives' own
    /// included, in no set order.</summary>
    ValueTask<IReadOnlyList<ValueStatus>> ListAsync(CancellationToken cancellationToken);
}
