using RabbitMQ.Client;

namespace Broker.Transport.RabbitMq;

/// <summary>A message taken from a queue and not yet acknowledged: its tag on <see cref="Channel"/>, its body
/// (copied: the client's buffer is only valid inside the delivery), whether RabbitMQ delivered this copy before (to
/// a consumer that ended without acknowledging it), the deliveries of the item so far, this one included, and why its
/// headers could not be read, if they could not.</summary>
internal sealed record Taken(IChannel Channel, ulong Tag, byte[] Body, bool Redelivered, int Attempt, bool Joinable, string? Unreadable = null)
{
    /// <summary>The header that marks an item a JoinableQueue counts as unfinished.</summary>
    public const string JoinableHeader = "x-broker-joinable";

    /// <summary>The header that counts the deliveries of an item before this copy of it was published. A classic
    /// queue only says whether a message was delivered before, so a redelivered item is published again with the
    /// count (see RabbitMqTransport.RecountAsync).</summary>
    public const string DeliveriesHeader = "x-broker-deliveries";

    /// <summary>Reads what Broker wrote in the headers. Anything else a publisher put there is ignored; a deliveries
    /// header that is not a whole number from 0 up makes the message unreadable, to be dead-lettered as it came.</summary>
    public static Taken From(IChannel channel, ulong tag, bool redelivered, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body)
    {
        var headers = properties.Headers;
        var earlier = 0;
        string? unreadable = null;
        if (headers is not null && headers.TryGetValue(DeliveriesHeader, out var count) && count is not null)
        {
            if (count is int or long or short or sbyte or byte or uint or ushort && Convert.ToInt64(count, System.Globalization.CultureInfo.InvariantCulture) is var number
                && number is >= 0 and < int.MaxValue)
            {
                earlier = (int)number;
            }
            else
            {
                unreadable = $"Its header {DeliveriesHeader} holds {Describe(count)}, not a count of deliveries.";
            }
        }
        var joinable = headers is not null && headers.TryGetValue(JoinableHeader, out var flag) && flag is true;
        return new Taken(channel, tag, body.ToArray(), redelivered, earlier + (redelivered ? 2 : 1), joinable, unreadable);
    }

    private static string Describe(object value) => value switch
    {
        byte[] text => $"the text '{System.Text.Encoding.UTF8.GetString(text.AsSpan(0, Math.Min(text.Length, 40)))}'",
        IConvertible number => $"{value.GetType().Name} {number.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
        _ => $"a value of type {value.GetType().Name}",
    };
}
