namespace Broker;

/// <summary>How far a map has come, reported to the <see cref="IProgress{T}"/> given to <see cref="Pool.MapAsync"/>,
/// <see cref="Pool.StarmapAsync"/> or an Imap each time a chunk's results are in.</summary>
/// <param name="Done">Items whose results are in.</param>
/// <param name="Total">Items in all: known at once for a map; for an Imap, <c>null</c> until its source has been read
/// to the end.</param>
public readonly record struct PoolProgress(int Done, int? Total);
