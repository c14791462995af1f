using System.Buffers.Binary;
using System.Text;
using Broker.Transport;

namespace Broker.Transport.Local;

/// <summary>One step on a Manager's collections, as a client asks <see cref="LocalCollections"/> for it.</summary>
internal enum CollectionOp : byte
{
    MapGet = 1,
    MapSet,
    MapCompareExchange,
    MapRemove,
    MapCount,
    MapEntries,
    MapClear,
    ListAppend,
    ListGet,
    ListSet,
    ListCount,
    ListRange,
    ListClear,
}

/// <summary>The encoding of collection requests and results: <c>[op][name][arguments]</c>, answered by the result;
/// the host's own calls and its children's go through the same one. A blob is a 32-bit length (-1 for none) and
/// its bytes, a string a blob of UTF-8.</summary>
internal static class CollectionCalls
{
    /// <summary>Sends one encoded request to the collections and returns the encoded result.</summary>
    public delegate ValueTask<byte[]> Call(byte[] request, CancellationToken cancellationToken);

    public sealed class Writer
    {
        private readonly MemoryStream _bytes = new();

        public Writer Byte(byte value)
        {
            _bytes.WriteByte(value);
            return this;
        }

        public Writer Bool(bool value) => Byte(value ? (byte)1 : (byte)0);

        public Writer Int64(long value)
        {
            Span<byte> bytes = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
            _bytes.Write(bytes);
            return this;
        }

        public Writer String(string value) => Blob(Encoding.UTF8.GetBytes(value));

        /// <summary>Writes <paramref name="value"/>, or none for null (which a conversion to memory would make empty).</summary>
        public Writer Blob(byte[]? value) => value is null ? Blob(default(ReadOnlyMemory<byte>?)) : Blob((ReadOnlyMemory<byte>?)value);

        public Writer Blob(ReadOnlyMemory<byte>? value)
        {
            Span<byte> length = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(length, value is { } v ? v.Length : -1);
            _bytes.Write(length);
            if (value is { } bytes)
            {
                _bytes.Write(bytes.Span);
            }
            return this;
        }

        public byte[] ToArray() => _bytes.ToArray();
    }

    /// <summary>Reads a request or result; lengths are checked against the bytes left, so a malformed one allocates
    /// nothing for what it announces.</summary>
    public sealed class Reader(byte[] bytes)
    {
        private int _at;

        public byte Byte() => Take(1)[0];

        public bool Bool() => Byte() == 1;

        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

        /// <summary>A count of elements that follow, each at least four bytes long.</summary>
        public int Count()
        {
            var count = Int64();
            return count >= 0 && count <= (bytes.Length - _at) / 4
                ? (int)count
                : throw new InvalidDataException($"A collection call announces {count} elements but holds {bytes.Length - _at} bytes.");
        }

        public string String() => Encoding.UTF8.GetString(Blob() ?? throw new InvalidDataException("A collection call lacks a name."));

        public byte[]? Blob()
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(Take(4));
            return length == -1 ? null : Take(length).ToArray();
        }

        private ReadOnlySpan<byte> Take(int count)
        {
            if (count < 0 || count > bytes.Length - _at)
            {
                throw new InvalidDataException($"A collection call is cut short: {count} bytes wanted, {bytes.Length - _at} left.");
            }
            var span = bytes.AsSpan(_at, count);
            _at += count;
            return span;
        }
    }

    private static Writer Request(CollectionOp op, string name) => new Writer().Byte((byte)op).String(name);

    /// <summary>The dictionaries and namespaces, reached through <paramref name="call"/>.</summary>
    public sealed class Maps(Call call) : IMapBackend
    {
        public async ValueTask<byte[]?> GetAsync(string map, string key, CancellationToken cancellationToken) =>
            new Reader(await call(Request(CollectionOp.MapGet, map).String(key).ToArray(), cancellationToken).ConfigureAwait(false)).Blob();

        public async ValueTask SetAsync(string map, string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken) =>
            await call(Request(CollectionOp.MapSet, map).String(key).Blob(value).ToArray(), cancellationToken).ConfigureAwait(false);

        public async ValueTask<bool> CompareExchangeAsync(string map, string key, ReadOnlyMemory<byte>? value, ReadOnlyMemory<byte>? comparand,
            CancellationToken cancellationToken) =>
            new Reader(await call(Request(CollectionOp.MapCompareExchange, map).String(key).Blob(value).Blob(comparand).ToArray(), cancellationToken)
                .ConfigureAwait(false)).Bool();

        public async ValueTask<byte[]?> RemoveAsync(string map, string key, CancellationToken cancellationToken) =>
            new Reader(await call(Request(CollectionOp.MapRemove, map).String(key).ToArray(), cancellationToken).ConfigureAwait(false)).Blob();

        public async ValueTask<long> CountAsync(string map, CancellationToken cancellationToken) =>
            new Reader(await call(Request(CollectionOp.MapCount, map).ToArray(), cancellationToken).ConfigureAwait(false)).Int64();

        public async ValueTask<IReadOnlyList<KeyValuePair<string, byte[]>>> EntriesAsync(string map, CancellationToken cancellationToken)
        {
            var result = new Reader(await call(Request(CollectionOp.MapEntries, map).ToArray(), cancellationToken).ConfigureAwait(false));
            var entries = new KeyValuePair<string, byte[]>[result.Count()];
            for (var i = 0; i < entries.Length; i++)
            {
                entries[i] = KeyValuePair.Create(result.String(), result.Blob()!);
            }
            return entries;
        }

        public async ValueTask ClearAsync(string map, CancellationToken cancellationToken) =>
            await call(Request(CollectionOp.MapClear, map).ToArray(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The lists, reached through <paramref name="call"/>.</summary>
    public sealed class Lists(Call call) : IListBackend
    {
        public async ValueTask<long> AppendAsync(string list, IReadOnlyList<ReadOnlyMemory<byte>> items, CancellationToken cancellationToken)
        {
            var request = Request(CollectionOp.ListAppend, list).Int64(items.Count);
            foreach (var item in items)
            {
                request.Blob(item);
            }
            return new Reader(await call(request.ToArray(), cancellationToken).ConfigureAwait(false)).Int64();
        }

        public async ValueTask<byte[]?> GetAsync(string list, long index, CancellationToken cancellationToken) =>
            new Reader(await call(Request(CollectionOp.ListGet, list).Int64(index).ToArray(), cancellationToken).ConfigureAwait(false)).Blob();

        public async ValueTask<bool> SetAsync(string list, long index, ReadOnlyMemory<byte> value, CancellationToken cancellationToken) =>
            new Reader(await call(Request(CollectionOp.ListSet, list).Int64(index).Blob(value).ToArray(), cancellationToken).ConfigureAwait(false)).Bool();

        public async ValueTask<long> CountAsync(string list, CancellationToken cancellationToken) =>
            new Reader(await call(Request(CollectionOp.ListCount, list).ToArray(), cancellationToken).ConfigureAwait(false)).Int64();

        public async ValueTask<IReadOnlyList<byte[]>> RangeAsync(string list, long start, long end, CancellationToken cancellationToken)
        {
            var result = new Reader(await call(Request(CollectionOp.ListRange, list).Int64(start).Int64(end).ToArray(), cancellationToken).ConfigureAwait(false));
            var elements = new byte[result.Count()][];
            for (var i = 0; i < elements.Length; i++)
            {
                elements[i] = result.Blob()!;
            }
            return elements;
        }

        public async ValueTask ClearAsync(string list, CancellationToken cancellationToken) =>
            await call(Request(CollectionOp.ListClear, list).ToArray(), cancellationToken).ConfigureAwait(false);
    }
}
