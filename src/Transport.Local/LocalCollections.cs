using Broker.Transport;

namespace Broker.Transport.Local;

/// <summary>The dictionaries, namespaces and lists of a Manager's, kept by the host under one lock, so that each step
/// is atomic. Every client, the host's own included, reaches them through <see cref="Run"/>: a request in the
/// <see cref="CollectionCalls"/> encoding, answered in it.</summary>
internal sealed class LocalCollections
{
    private readonly System.Threading.Lock _gate = new();
    private readonly Dictionary<string, Dictionary<string, byte[]>> _maps = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<byte[]>> _lists = new(StringComparer.Ordinal);

    /// <summary>Runs one encoded request and returns its encoded result.</summary>
    /// <exception cref="EndOfStreamException">The request is cut short.</exception>
    /// <exception cref="InvalidDataException">The request is not one.</exception>
    public byte[] Run(byte[] request)
    {
        var call = new CollectionCalls.Reader(request);
        var op = (CollectionOp)call.Byte();
        var name = call.String();
        var result = new CollectionCalls.Writer();
        lock (_gate)
        {
            switch (op)
            {
                case CollectionOp.MapGet:
                    result.Blob(Map(name).GetValueOrDefault(call.String()));
                    break;
                case CollectionOp.MapSet:
                    Map(name)[call.String()] = call.Blob() ?? throw new InvalidDataException("A dictionary value cannot be missing.");
                    break;
                case CollectionOp.MapCompareExchange:
                {
                    var (key, value, comparand) = (call.String(), call.Blob(), call.Blob());
                    var map = Map(name);
                    var found = map.GetValueOrDefault(key);
                    var matches = comparand is null ? found is null : found is not null && found.AsSpan().SequenceEqual(comparand);
                    if (matches)
                    {
                        if (value is null)
                        {
                            map.Remove(key);
                        }
                        else
                        {
                            map[key] = value;
                        }
                    }
                    result.Bool(matches);
                    break;
                }
                case CollectionOp.MapRemove:
                    result.Blob(Map(name).Remove(call.String(), out var removed) ? removed : null);
                    break;
                case CollectionOp.MapCount:
                    result.Int64(Map(name).Count);
                    break;
                case CollectionOp.MapEntries:
                {
                    var map = Map(name);
                    result.Int64(map.Count);
                    foreach (var (key, value) in map)
                    {
                        result.String(key);
                        result.Blob(value);
                    }
                    break;
                }
                case CollectionOp.MapClear:
                    _maps.Remove(name);
                    break;
                case CollectionOp.ListAppend:
                {
                    var list = List(name);
                    var count = call.Count();
                    for (var i = 0; i < count; i++)
                    {
                        list.Add(call.Blob() ?? throw new InvalidDataException("A list element cannot be missing."));
                    }
                    result.Int64(list.Count);
                    break;
                }
                case CollectionOp.ListGet:
                {
                    var list = List(name);
                    result.Blob(Index(list, call.Int64()) is { } at ? list[at] : null);
                    break;
                }
                case CollectionOp.ListSet:
                {
                    var list = List(name);
                    var (index, value) = (call.Int64(), call.Blob() ?? throw new InvalidDataException("A list element cannot be missing."));
                    var at = Index(list, index);
                    if (at is { } position)
                    {
                        list[position] = value;
                    }
                    result.Bool(at is not null);
                    break;
                }
                case CollectionOp.ListCount:
                    result.Int64(List(name).Count);
                    break;
                case CollectionOp.ListRange:
                {
                    var list = List(name);
                    var (start, end) = (Clamp(list, call.Int64()), Clamp(list, call.Int64()));
                    result.Int64(Math.Max(0, end - start));
                    for (var i = start; i < end; i++)
                    {
                        result.Blob(list[i]);
                    }
                    break;
                }
                case CollectionOp.ListClear:
                    _lists.Remove(name);
                    break;
                default:
                    throw new InvalidDataException($"Collection operation {(byte)op} is not one.");
            }
        }
        return result.ToArray();
    }

    private Dictionary<string, byte[]> Map(string name) =>
        _maps.TryGetValue(name, out var map) ? map : _maps[name] = new(StringComparer.Ordinal);

    private List<byte[]> List(string name) =>
        _lists.TryGetValue(name, out var list) ? list : _lists[name] = [];

    /// <summary>The position of a Python index (negative from the end), or null if the list has none there.</summary>
    private static int? Index(List<byte[]> list, long index)
    {
        var at = index < 0 ? index + list.Count : index;
        return at >= 0 && at < list.Count ? (int)at : null;
    }

    /// <summary>A Python slice bound: negative from the end, clamped to the list.</summary>
    private static int Clamp(List<byte[]> list, long index) =>
        (int)Math.Clamp(index < 0 ? index + list.Count : index, 0, list.Count);
}
