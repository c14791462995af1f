using StackExchange.Redis;

namespace Broker.Transport.Redis;

// A Manager's dictionaries and namespaces as hashes, its lists as lists: each step one command or one script.
internal sealed partial class RedisTransport
{
    private sealed class RedisMaps(RedisTransport redis) : IMapBackend
    {
        public async ValueTask<byte[]?> GetAsync(string map, string key, CancellationToken cancellationToken) =>
            await redis.RunAsync(static (db, s) => db.HashGetAsync(s.Key, s.Field), (Key: redis._keys.Map(map), Field: (RedisValue)key), cancellationToken).ConfigureAwait(false);

        public async ValueTask SetAsync(string map, string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken) =>
            await redis.RunAsync(static (db, s) => db.HashSetAsync(s.Key, s.Field, s.Value), (Key: redis._keys.Map(map), Field: (RedisValue)key, Value: (RedisValue)value), cancellationToken).ConfigureAwait(false);

        public async ValueTask<bool> CompareExchangeAsync(string map, string key, ReadOnlyMemory<byte>? value, ReadOnlyMemory<byte>? comparand, CancellationToken cancellationToken) =>
            (long)await redis.EvaluateAsync(RedisScripts.MapCompareExchange, [redis._keys.Map(map)],
                [key, value is null ? "0" : "1", value ?? ReadOnlyMemory<byte>.Empty, comparand is null ? "0" : "1", comparand ?? ReadOnlyMemory<byte>.Empty],
                cancellationToken).ConfigureAwait(false) == 1;

        public async ValueTask<byte[]?> RemoveAsync(string map, string key, CancellationToken cancellationToken) =>
            (byte[]?)await redis.EvaluateAsync(RedisScripts.MapRemove, [redis._keys.Map(map)], [key], cancellationToken).ConfigureAwait(false);

        public async ValueTask<long> CountAsync(string map, CancellationToken cancellationToken) =>
            await redis.RunAsync(static (db, key) => db.HashLengthAsync(key), redis._keys.Map(map), cancellationToken).ConfigureAwait(false);

        public async ValueTask<IReadOnlyList<KeyValuePair<string, byte[]>>> EntriesAsync(string map, CancellationToken cancellationToken)
        {
            var entries = await redis.RunAsync(static (db, key) => db.HashGetAllAsync(key), redis._keys.Map(map), cancellationToken).ConfigureAwait(false);
            return [.. entries.Select(entry => KeyValuePair.Create((string)entry.Name!, (byte[])entry.Value!))];
        }

        public async ValueTask ClearAsync(string map, CancellationToken cancellationToken) =>
            await redis.RunAsync(static (db, key) => db.KeyDeleteAsync(key), redis._keys.Map(map), cancellationToken).ConfigureAwait(false);
    }

    private sealed class RedisLists(RedisTransport redis) : IListBackend
    {
        public async ValueTask<long> AppendAsync(string list, IReadOnlyList<ReadOnlyMemory<byte>> items, CancellationToken cancellationToken) =>
            await redis.RunAsync(static (db, s) => db.ListRightPushAsync(s.Key, s.Values), (Key: redis._keys.List(list), Values: items.Select(item => (RedisValue)item).ToArray()), cancellationToken).ConfigureAwait(false);

        public async ValueTask<byte[]?> GetAsync(string list, long index, CancellationToken cancellationToken) =>
            await redis.RunAsync(static (db, s) => db.ListGetByIndexAsync(s.Key, s.Index), (Key: redis._keys.List(list), Index: index), cancellationToken).ConfigureAwait(false);

        public async ValueTask<bool> SetAsync(string list, long index, ReadOnlyMemory<byte> value, CancellationToken cancellationToken) =>
            (long)await redis.EvaluateAsync(RedisScripts.ListSet, [redis._keys.List(list)], [index, value], cancellationToken).ConfigureAwait(false) == 1;

        public async ValueTask<long> CountAsync(string list, CancellationToken cancellationToken) =>
            await redis.RunAsync(static (db, key) => db.ListLengthAsync(key), redis._keys.List(list), cancellationToken).ConfigureAwait(false);

        public async ValueTask<IReadOnlyList<byte[]>> RangeAsync(string list, long start, long end, CancellationToken cancellationToken) =>
            (byte[][])(await redis.EvaluateAsync(RedisScripts.ListSlice, [redis._keys.List(list)], [start, end], cancellationToken).ConfigureAwait(false))!;

        public async ValueTask ClearAsync(string list, CancellationToken cancellationToken) =>
            await redis.RunAsync(static (db, key) => db.KeyDeleteAsync(key), redis._keys.List(list), cancellationToken).ConfigureAwait(false);
    }
}
