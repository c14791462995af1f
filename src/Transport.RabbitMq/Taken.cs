using RabbitMQ.Client;

namespace Broker.Transport.RabbitMq;

/// <summary>A message taken from a queue and not yet acknowledged: its tag on <see cref="Channel"/>, its body
/// (copied: the client's buffer is only valid inside the delivery), whether RabbitMQ delivered this copy before (to
/// a consumer that ended without acknowledging it), and the deliveries of the item so far, this one included.</summary>
internal sealed record Taken(IChannel Channel, ulong Tag, byte[] Body, bool Redelivered, int Attempt, bool Joinable)
{
    /// <summary>The header that marks an item a JoinableQueue counts as unfinished.</summary>
    public const string JoinableHeader = "x-broker-joinable";

    /// <summary>The header that counts the deliveries of an item before this copy of it was published. A classic
    /// queue only says whether a message was delivered before, so a redelivered item is published again with the
    /// count (see RabbitMqTransport.RecountAsync).</summary>
    public const string DeliveriesHeader = "x-broker-deliveries";

    public static Taken From(IChannel channel, ulong tag, bool redelivered, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body)
    {
        var headers = properties.Headers;
        var earlier = headers is not null && headers.TryGetValue(DeliveriesHeader, out var count) && count is not null
            ? Convert.ToInt32(count, System.Globalization.CultureInfo.InvariantCulture)
            : 0;
        var joinable = headers is not null && headers.TryGetValue(JoinableHeader, out var flag) && flag is true;
        return new Taken(channel, tag, body.ToArray(), redelivered, earlier + (redelivered ? 2 : 1), joinable);
    }
}
