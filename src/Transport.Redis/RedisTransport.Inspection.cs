using StackExchange.Redis;

namespace Broker.Transport.Redis;

// Inspection: the queues under this URL's prefix, found by their meta keys, and the items at the head of one.
internal sealed partial class RedisTransport : IQueueInspection
{
    /// <summary>Keys one SCAN step looks at.</summary>
    private const int ScanStep = 1_000;

    /// <summary>What Get.lua puts in front of an item given back, with the deliveries so far.</summary>
    private static readonly byte[] GivenBackMark = "\0BKR"u8.ToArray();

    public IQueueInspection Inspection => this;

    public async ValueTask<IReadOnlyList<QueueCounts>> ListAsync(CancellationToken cancellationToken)
    {
        var names = await QueueNamesAsync(cancellationToken).ConfigureAwait(false);
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

    public async ValueTask<IReadOnlyList<ReadOnlyMemory<byte>>> PeekAsync(string queue, int most, CancellationToken cancellationToken)
    {
        var items = await RunAsync(static (db, s) => db.ListRangeAsync(s.key, 0, s.most - 1), (key: (RedisKey)_keys.Queue(queue).Items, most), cancellationToken).ConfigureAwait(false);
        return [.. items.Select(item => Unmarked((byte[])item!))];
    }

    /// <summary>The names of the queues under this URL's prefix: every declared queue has its meta key.</summary>
    private async Task<List<string>> QueueNamesAsync(CancellationToken cancellationToken)
    {
        var start = $"{_keys.Prefix}q:{{";
        const string end = "}:meta";
        var names = new HashSet<string>(StringComparer.Ordinal);
        var cursor = "0";
        do
        {
            var step = (RedisResult[])(await RunAsync(static (db, s) => db.ExecuteAsync("SCAN", s.cursor, "MATCH", s.pattern, "COUNT", ScanStep),
                (cursor, pattern: start + "*" + end), cancellationToken).ConfigureAwait(false))!;
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
