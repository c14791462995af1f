namespace Broker.Serialization;

/// <summary>The handles a serialization wrote that do not exist on the broker yet. A child may use a handle before
/// its parent does, so the object must be created before the bytes that name it are sent; the JSON converter cannot
/// wait for the broker without blocking, so it hands each such handle to the caller that captures them here, which
/// creates them asynchronously before it sends. Serialization is synchronous, so one thread's capture is exact.</summary>
internal static class HandlesWritten
{
    [ThreadStatic] private static bool t_capturing;
    [ThreadStatic] private static List<BrokerHandle>? t_uncreated;

    /// <summary>Takes <paramref name="handle"/> for the capturing caller to create; false when no caller captures,
    /// as in a synchronous call, which the converter then serves by creating it itself.</summary>
    public static bool Defer(BrokerHandle handle)
    {
        if (!t_capturing)
        {
            return false;
        }
        (t_uncreated ??= []).Add(handle);
        return true;
    }

    /// <summary>Runs <paramref name="write"/>, a synchronous serialization, and gives the handles it wrote that the
    /// caller must create (<see cref="CreateAsync"/>) before it sends what was written; an empty list mostly.</summary>
    public static TResult Write<TState, TResult>(Func<TState, TResult> write, TState state, out IReadOnlyList<BrokerHandle> uncreated)
    {
        var outer = t_capturing;
        t_capturing = true;
        try
        {
            return write(state);
        }
        finally
        {
            t_capturing = outer;
            // A capture inside another leaves its handles to the outer one.
            uncreated = outer || t_uncreated is null ? [] : t_uncreated;
            if (!outer)
            {
                t_uncreated = null;
            }
        }
    }

    /// <summary>Creates each of <paramref name="handles"/> on its broker, once.</summary>
    public static ValueTask CreateAsync(IReadOnlyList<BrokerHandle> handles, CancellationToken cancellationToken) =>
        handles.Count == 0 ? default : CreateEachAsync(handles, cancellationToken);

    private static async ValueTask CreateEachAsync(IReadOnlyList<BrokerHandle> handles, CancellationToken cancellationToken)
    {
        foreach (var handle in handles)
        {
            await handle.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
