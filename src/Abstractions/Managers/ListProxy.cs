using System.Collections;
using Broker.Transport;

namespace Broker;

/// <summary>A list on the broker, what Python's <c>Manager().list()</c> gives: every process that holds it (it passes
/// to children and pool tasks as an argument) reads and writes the same elements, and every operation is one atomic
/// step on the broker. Elements travel as JSON, as queue items do; a handle stored in it is stored by reference. An
/// index counts from the end where negative, as in Python. Enumerating it reads every element at one moment.</summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class ListProxy<T> : ManagedCollection, IEnumerable<T>
{
    private const string Kind = "list";

    /// <param name="name">The list's name on the broker; a unique one by default.</param>
    /// <param name="broker">The broker; <see cref="BrokerContext.Default"/> by default.</param>
    public ListProxy(string? name = null, BrokerContext? broker = null)
        : base(broker, name, Kind)
    {
    }

    private IListBackend Lists => Usable.Lists;

    /// <summary>Python's <c>l[index]</c> and <c>l[index] = value</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The list has no element at <paramref name="index"/> (Python's
    /// <c>IndexError</c>).</exception>
    public T this[long index]
    {
        get => Sync.Run(GetAsync(index));
        set => Sync.Run(SetAsync(index, value));
    }

    /// <summary>Appends <paramref name="item"/>, Python's <c>append</c>.</summary>
    public async ValueTask AppendAsync(T item, CancellationToken cancellationToken = default) =>
        await Lists.AppendAsync(Name, [Write(item)], cancellationToken).ConfigureAwait(false);

    /// <summary>Appends every item in order as one step, Python's <c>extend</c>.</summary>
    public async ValueTask ExtendAsync(IEnumerable<T> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        var written = items.Select(item => (ReadOnlyMemory<byte>)Write(item)).ToList();
        if (written.Count > 0)
        {
            await Lists.AppendAsync(Name, written, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The element at <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The list has none there.</exception>
    public async ValueTask<T> GetAsync(long index, CancellationToken cancellationToken = default) =>
        await Lists.GetAsync(Name, index, cancellationToken).ConfigureAwait(false) is { } body
            ? Read(body)
            : throw OutOfRange(index);

    /// <summary>Replaces the element at <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The list has none there.</exception>
    public async ValueTask SetAsync(long index, T value, CancellationToken cancellationToken = default)
    {
        if (!await Lists.SetAsync(Name, index, Write(value), cancellationToken).ConfigureAwait(false))
        {
            throw OutOfRange(index);
        }
    }

    /// <summary>The list's length, Python's <c>len(l)</c>.</summary>
    public async ValueTask<int> CountAsync(CancellationToken cancellationToken = default) =>
        checked((int)await Lists.CountAsync(Name, cancellationToken).ConfigureAwait(false));

    /// <summary>Python's slice <c>l[start:end]</c>, read at one moment: <paramref name="end"/> is not included, a
    /// negative index counts from the end, null means the list's start or end.</summary>
    public async ValueTask<T[]> SliceAsync(long? start = null, long? end = null, CancellationToken cancellationToken = default)
    {
        var elements = await Lists.RangeAsync(Name, start ?? 0, end ?? long.MaxValue, cancellationToken).ConfigureAwait(false);
        return [.. elements.Select(Read)];
    }

    /// <summary>Removes every element.</summary>
    public ValueTask ClearAsync(CancellationToken cancellationToken = default) => Lists.ClearAsync(Name, cancellationToken);

    /// <summary>Python's <c>append</c>.</summary>
    public void Append(T item) => Sync.Run(AppendAsync(item));

    /// <summary>Python's <c>extend</c>.</summary>
    public void Extend(IEnumerable<T> items) => Sync.Run(ExtendAsync(items));

    /// <summary>Python's <c>len(l)</c>.</summary>
    public int Count => Sync.Run(CountAsync());

    /// <summary>Python's <c>l[start:end]</c>; see <see cref="SliceAsync"/>.</summary>
    public T[] Slice(long? start = null, long? end = null) => Sync.Run(SliceAsync(start, end));

    /// <summary>Every element, read at one moment, Python's <c>l[:]</c>.</summary>
    public T[] ToArray() => Slice();

    /// <summary>Removes every element.</summary>
    public void Clear() => Sync.Run(ClearAsync());

    /// <summary>Every element, read at one moment.</summary>
    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)ToArray()).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private ArgumentOutOfRangeException OutOfRange(long index) =>
        new(nameof(index), index, $"List '{Name}' has no element at index {index}.");

    private byte[] Write(T value) => Context.Serializer.Serialize(value, $"an element of list '{Name}'");

    private T Read(byte[] body) => Context.Serializer.Deserialize<T>(body, $"an element of list '{Name}'");

    internal override ValueTask ClearOnBrokerAsync(CancellationToken cancellationToken) => Context.Lists.ClearAsync(Name, cancellationToken);

    internal override HandleDescriptor Describe() => new(Kind, Name);

    internal static ListProxy<T> Attach(BrokerContext broker, HandleDescriptor descriptor) => new(descriptor.Name, broker);
}
