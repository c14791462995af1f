using System.Globalization;
using StackExchange.Redis;

namespace Broker.Transport.Redis;

// Inspection: the queues, locks and values under this URL's prefix, found by SCAN, and the items at the head of a queue.
internal sealed partial class RedisTransport : IQueueInspection, ILockInspection, IValueInspection
{
    /// <summary>Keys one SCAN step looks at.</summary>
    private const int ScanStep = 1_000;

    /// <summary>What Get.lua puts in front of an item given back, with the deliveries so far.</summary>
    private static readonly byte[] GivenBackMark = "\0BKR"u8.ToArray();

    IQueueInspection IQueueBackend.Inspection => this;

    ILockInspection ILockBackend.Inspection => this;

    IValueInspection IValueBackend.Inspection => this;

    async ValueTask<IReadOnlyList<QueueCounts>> IQueueInspection.ListAsync(CancellationToken cancellationToken)
    {
        var names = await NamesAsync(_keys.Queue("*").Meta, cancellationToken).ConfigureAwait(false);
        return await RunAsync(static async (db, s) =>
        {
            var counts = s.names.Select(name =>
            {
                var keys = s.transport._keys.Queue(name);
                return (name, waiting: db.ListLengthAsync(keys.Items), unfinished: db.StringGetAsync(keys.Unfinished));
            }).ToList();
            await Task.WhenAll(counts.SelectMany(c => new Task[] { c.waiting, c.unfinished })).ConfigureAwait(false);
            // Every put counts for Join here, so each queue has its count.
            return (IReadOnlyList<QueueCounts>)[.. counts.Select(c => new QueueCounts(c.name, c.waiting.Result, Math.Max(0, (long)c.unfinished.Result), null))];
        }, (transport: this, names), cancellationToken).ConfigureAwait(false);
    }

    async ValueTask<IReadOnlyList<ReadOnlyMemory<byte>>> IQueueInspection.PeekAsync(string queue, int most, CancellationToken cancellationToken)
    {
        var items = await RunAsync(static (db, s) => db.ListRangeAsync(s.key, 0, s.most - 1), (key: (RedisKey)_keys.Queue(queue).Items, most), cancellationToken).ConfigureAwait(false);
        return [.. items.Select(item => Unmarked((byte[])item!))];
    }

    async ValueTask<IReadOnlyList<LockStatus>> ILockInspection.ListAsync(CancellationToken cancellationToken)
    {
        // A lock's fence outlives its holder, so every lock ever held has one.
        var names = await NamesAsync(_keys.Lock("*").Fence, cancellationToken).ConfigureAwait(false);
        return await RunAsync(static async (db, s) =>
        {
            var locks = s.names.Select(name =>
            {
                var keys = s.transport._keys.Lock(name);
                return (name, holder: db.StringGetAsync(keys.Lock), lease: db.KeyTimeToLiveAsync(keys.Lock), fence: db.StringGetAsync(keys.Fence));
            }).ToList();
            await Task.WhenAll(locks.SelectMany(l => new Task[] { l.holder, l.lease, l.fence })).ConfigureAwait(false);
            return (IReadOnlyList<LockStatus>)[.. locks.Select(l => l.holder.Result.IsNull
                ? new LockStatus(l.name, null, (long)l.fence.Result, null)
                : new LockStatus(l.name, l.holder.Result, (long)l.fence.Result, l.lease.Result))];
        }, (transport: this, names), cancellationToken).ConfigureAwait(false);
    }

    async ValueTask<IReadOnlyList<ValueStatus>> IValueInspection.ListAsync(CancellationToken cancellationToken)
    {
        var names = await NamesAsync(_keys.Value("*").ToString(), cancellationToken).ConfigureAwait(false);
        return await RunAsync(static async (db, s) =>
        {
            var values = s.names.Select(name => (name, text: db.StringGetAsync(s.transport._keys.Value(name)))).ToList();
            await Task.WhenAll(values.Select(v => v.text)).ConfigureAwait(false);
            return (IReadOnlyList<ValueStatus>)[.. values.Select(v => (v.name, number: Number(v.text.Result))).Where(v => v.number is not null)
                .Select(v => new ValueStatus(v.name, v.number!.Value))];
        }, (transport: this, names), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A number as this transport keeps it, invariant text, a whole number as an integer; <c>null</c> for a key
    /// gone meanwhile, or one something else wrote that holds no number.</summary>
    private static Scalar? Number(RedisValue value)
    {
        var text = (string?)value;
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var integer))
        {
            return Scalar.FromInteger(integer);
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? Scalar.FromFloat(number) : null;
    }

    /// <summary>The names of the objects whose key, for the name <c>*</c>, is <paramref name="pattern"/>; their names
    /// sit in braces, so the part between the pattern's ends is the name.</summary>
    private async Task<List<string>> NamesAsync(string pattern, CancellationToken cancellationToken)
    {
        var star = pattern.IndexOf("{*}", StringComparison.Ordinal);
        var (start, end) = (pattern[..(star + 1)], pattern[(star + 2)..]);
        var names = new HashSet<string>(StringComparer.Ordinal);
        var cursor = "0";
        do
        {
            var step = (RedisResult[])(await RunAsync(static (db, s) => db.ExecuteAsync("SCAN", s.cursor, "MATCH", s.pattern, "COUNT", ScanStep),
                (cursor, pattern), cancellationToken).ConfigureAwait(false))!;
            cursor = (string)step[0]!;
            foreach (var key in (RedisResult[])step[1]!)
            {
                var name = (string)key!;
                names.Add(name[start.Length..^end.Length]);
            }
        }
        while (cursor != "0");
        return [.. names];
    }

    /// <summary>An item as it was put, without the mark of an item given back.</summary>
    private static ReadOnlyMemory<byte> Unmarked(byte[] item) =>
        item.Length > GivenBackMark.Length + 1 && item.AsSpan().StartsWith(GivenBackMark) ? item.AsMemory(GivenBackMark.Length + 1) : item;
}
