namespace Broker;

/// <summary>Python's <c>multiprocessing.Pipe</c>: a pair of connected <see cref="Connection"/>s, one for each
/// side, that pass to child processes as arguments.</summary>
public static class Pipe
{
    /// <summary>Makes a pipe, Python's <c>Pipe(duplex=True)</c>: with <paramref name="duplex"/>, each end sends to
    /// the other; without, the first end only receives and the second only sends.</summary>
    /// <param name="duplex">Whether both ends send and receive.</param>
    /// <param name="name">The pipe's name on the broker; a unique one by default.</param>
    /// <param name="broker">The broker; <see cref="BrokerContext.Default"/> by default.</param>
    public static (Connection First, Connection Second) Create(bool duplex = true, string? name = null, BrokerContext? broker = null)
    {
        var context = broker ?? BrokerContext.Default;
        var pipe = name is null ? $"pipe-{Guid.NewGuid():N}" : BrokerNames.Validate(name, "pipe");
        return (new Connection(context, pipe, 0, duplex), new Connection(context, pipe, 1, duplex));
    }
}
