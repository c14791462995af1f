namespace Broker.Transport;

/// <summary>Named maps from string keys to bytes, kept by the broker: a <see cref="DictProxy{TKey, TValue}"/>'s and a <see cref="NamespaceProxy"/>'s. Every
/// operation is atomic on the broker. A map that was never written is empty.</summary>
public interface IMapBackend
{
    /// <summary>The value of <paramref name="key"/>, or <c>null</c> if the map holds none.</summary>
    ValueTask<byte[]?> GetAsync(string map, string key, CancellationToken cancellationToken);

    /// <summary>Sets the value of <paramref name="key"/>, whether or not it had one.</summary>
    ValueTask SetAsync(string map, string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken);

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/> (removes it where <c>null</c>) if its value is
    /// byte for byte <paramref name="comparand"/> (if it has none, where <c>null</c>); whether it did.</summary>
    ValueTask<bool> CompareExchangeAsync(string map, string key, ReadOnlyMemory<byte>? value, ReadOnlyMemory<byte>? comparand,
        CancellationToken cancellationToken);

    /// <summary>Removes <paramref name="key"/> and returns the value it had, or <c>null</c> if it had none.</summary>
    ValueTask<byte[]?> RemoveAsync(string map, string key, CancellationToken cancellationToken);

    /// <summary>How many keys the map holds.</summary>
    ValueTask<long> CountAsync(string map, CancellationToken cancellationToken);

    /// <summary>Every key and value, read at one moment.</summary>
    ValueTask<IReadOnlyList<KeyValuePair<string, byte[]>>> EntriesAsync(string map, CancellationToken cancellationToken);

    /// <summary>Removes every key.</summary>
    ValueTask ClearAsync(string map, CancellationToken cancellationToken);
}

/// <summary>Named lists of bytes, kept by the broker: a <see cref="ListProxy{T}"/>'s. Every
/// operation is atomic on the broker. An index counts from the start, or from the end where negative (-1 is the last
/// element), as in Python; a list that was never written is empty.</summary>
public interface IListBackend
{
    /// <summary>Appends <paramref name="items"/> in order, as one step; returns the new length.</summary>
    ValueTask<long> AppendAsync(string list, IReadOnlyList<ReadOnlyMemory<byte>> items, CancellationToken cancellationToken);

    /// <summary>The element at <paramref name="index"/>, or <c>null</c> if the list has none there.</summary>
    ValueTask<byte[]?> GetAsync(string list, long index, CancellationToken cancellationToken);

    /// <summary>Replaces the element at <paramref name="index"/>; false if the list has none there.</summary>
    ValueTask<bool> SetAsync(string list, long index, ReadOnlyMemory<byte> value, CancellationToken cancellationToken);

    /// <summary>The list's length.</summary>
    ValueTask<long> CountAsync(string list, CancellationToken cancellationToken);

    /// <summary>The elements from <paramref name="start"/> to <paramref name="end"/> (not included), read at one moment.
    /// Indexes out of the list are clamped to it, as a Python slice's are.</summary>
    ValueTask<IReadOnlyList<byte[]>> RangeAsync(string list, long start, long end, CancellationToken cancellationToken);

    /// <summary>Removes every element.</summary>
    ValueTask ClearAsync(string list, CancellationToken cancellationToken);
}
