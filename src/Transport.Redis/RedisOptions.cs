using System.Globalization;

namespace Broker.Transport.Redis;

/// <summary>Settings read from the URL's query, as in <c>redis://127.0.0.1:6379/0?lease=10s</c>.</summary>
internal sealed record RedisOptions(TimeSpan Lease, TimeSpan Poll)
{
    /// <summary>How long an item taken with acknowledgement, or a lock, stays with a holder that stops renewing it:
    /// the time a dead consumer's item takes to come back. The default is 10 seconds; a live holder renews at a third.</summary>
    public static readonly TimeSpan DefaultLease = TimeSpan.FromSeconds(10);

    /// <summary>How often a waiter looks again when no wake-up came: the pub/sub doorbell is the fast path, this
    /// the fallback for a lost message and for expired leases. The default is half a second.</summary>
    public static readonly TimeSpan DefaultPoll = TimeSpan.FromMilliseconds(500);

    public static RedisOptions From(BrokerUrl url)
    {
        var lease = DefaultLease;
        var poll = DefaultPoll;
        foreach (var pair in url.Uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = pair.Split('=', 2) is [var k, var v] ? (k, v) : (pair, "");
            switch (key)
            {
                case "lease":
                    lease = Duration(url, key, value);
                    break;
                case "poll":
                    poll = Duration(url, key, value);
                    break;
                default:
                    throw new BrokerUrlException($"'{url.Display}' has the unknown setting '{key}': the Redis transport takes lease and poll.");
            }
        }
        return new RedisOptions(lease, poll);
    }

    /// <summary>"10s", "1500ms" or "2m".</summary>
    private static TimeSpan Duration(BrokerUrl url, string key, string text)
    {
        var (number, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 1.0)
            : text.EndsWith('s') ? (text[..^1], 1000.0)
            : text.EndsWith('m') ? (text[..^1], 60_000.0)
            : (text, double.NaN);
        return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0 && !double.IsNaN(unit)
            ? TimeSpan.FromMilliseconds(value * unit)
            : throw new BrokerUrlException($"'{url.Display}' sets {key} to '{text}': give a positive duration such as 10s or 1500ms.");
    }
}
