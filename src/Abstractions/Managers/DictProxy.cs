using System.Collections;
using System.Text;
using Broker.Transport;

namespace Broker;

/// <summary>A dictionary on the broker, what Python's <c>Manager().dict()</c> gives: every process that holds it (it
/// passes to children and pool tasks as an argument) reads and writes the same entries, and every operation is one
/// atomic step on the broker. Keys and values travel as JSON, as queue items do. Enumerating it reads every entry at
/// one moment.</summary>
/// <remarks>A handle (a queue, a lock, another proxy) stored as a value is stored by reference, as Python's nested
/// proxies are: reading it back gives a handle on the same object, and changes made through it are seen by all.</remarks>
/// <typeparam name="TKey">The key type; two keys are the same key when their JSON is the same.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
public sealed class DictProxy<TKey, TValue> : ManagedCollection, IEnumerable<KeyValuePair<TKey, TValue>>
    where TKey : notnull
{
    private const string Kind = "dict";

    /// <param name="name">The dictionary's name on the broker; a unique one by default.</param>
    /// <param name="broker">The broker; <see cref="BrokerContext.Default"/> by default.</param>
    public DictProxy(string? name = null, BrokerContext? broker = null)
        : base(broker, name, Kind)
    {
    }

    private IMapBackend Maps => Usable.Maps;

    /// <summary>Python's <c>d[key]</c> and <c>d[key] = value</c>.</summary>
    /// <exception cref="KeyNotFoundException">Reading a key the dictionary does not hold (Python's <c>KeyError</c>).</exception>
    public TValue this[TKey key]
    {
        get => Sync.Run(GetAsync(key));
        set => Sync.Run(SetAsync(key, value));
    }

    /// <summary>The value of <paramref name="key"/>.</summary>
    /// <exception cref="KeyNotFoundException">The dictionary does not hold <paramref name="key"/>.</exception>
    public async ValueTask<TValue> GetAsync(TKey key, CancellationToken cancellationToken = default) =>
        await TryGetValueAsync(key, cancellationToken).ConfigureAwait(false) is (true, var value)
            ? value
            : throw new KeyNotFoundException($"Dictionary '{Name}' holds no key {KeyOf(key)}.");

    /// <summary>The value of <paramref name="key"/>, if the dictionary holds it.</summary>
    public async ValueTask<(bool Found, TValue Value)> TryGetValueAsync(TKey key, CancellationToken cancellationToken = default) =>
        await Maps.GetAsync(Name, KeyOf(key), cancellationToken).ConfigureAwait(false) is { } body ? (true, Read(body)) : (false, default!);

    /// <summary>Sets the value of <paramref name="key"/>, Python's <c>d[key] = value</c>.</summary>
    public ValueTask SetAsync(TKey key, TValue value, CancellationToken cancellationToken = default) =>
        Maps.SetAsync(Name, KeyOf(key), Write(value), cancellationToken);

    /// <summary>Adds <paramref name="key"/> unless the dictionary holds it; whether it did.</summary>
    public ValueTask<bool> TryAddAsync(TKey key, TValue value, CancellationToken cancellationToken = default) =>
        Maps.CompareExchangeAsync(Name, KeyOf(key), Write(value), null, cancellationToken);

    /// <summary>Python's <c>setdefault</c>: the value of <paramref name="key"/>, which is <paramref name="value"/> if the
    /// dictionary did not hold the key (it does now).</summary>
    public async ValueTask<TValue> SetDefaultAsync(TKey key, TValue value, CancellationToken cancellationToken = default)
    {
        var (name, written) = (KeyOf(key), Write(value));
        while (true)
        {
            if (await Maps.GetAsync(Name, name, cancellationToken).ConfigureAwait(false) is { } body)
            {
                return Read(body);
            }
            if (await Maps.CompareExchangeAsync(Name, name, written, null, cancellationToken).ConfigureAwait(false))
            {
                return value;
            }
        }
    }

    /// <summary>Sets <paramref name="key"/> to <paramref name="add"/> if the dictionary does not hold it, or to
    /// <paramref name="update"/> of its value, as one atomic step whatever other processes do meanwhile (the update
    /// may run more than once when they race, as <c>ConcurrentDictionary.AddOrUpdate</c>'s does); returns the value set.</summary>
    public async ValueTask<TValue> AddOrUpdateAsync(TKey key, TValue add, Func<TKey, TValue, TValue> update, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        var name = KeyOf(key);
        while (true)
        {
            var found = await Maps.GetAsync(Name, name, cancellationToken).ConfigureAwait(false);
            var value = found is null ? add : update(key, Read(found));
            // A null array would convert to an empty memory, not to none.
            var comparand = found is null ? default(ReadOnlyMemory<byte>?) : found;
            if (await Maps.CompareExchangeAsync(Name, name, Write(value), comparand, cancellationToken).ConfigureAwait(false))
            {
                return value;
            }
        }
    }

    /// <summary>Removes <paramref name="key"/>; whether the dictionary held it.</summary>
    public async ValueTask<bool> RemoveAsync(TKey key, CancellationToken cancellationToken = default) =>
        await Maps.RemoveAsync(Name, KeyOf(key), cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>Python's <c>pop(key)</c>: removes <paramref name="key"/> and returns its value, if the dictionary held it.</summary>
    public async ValueTask<(bool Found, TValue Value)> TryRemoveAsync(TKey key, CancellationToken cancellationToken = default) =>
        await Maps.RemoveAsync(Name, KeyOf(key), cancellationToken).ConfigureAwait(false) is { } body ? (true, Read(body)) : (false, default!);

    /// <summary>Whether the dictionary holds <paramref name="key"/>, Python's <c>key in d</c>.</summary>
    public async ValueTask<bool> ContainsKeyAsync(TKey key, CancellationToken cancellationToken = default) =>
        await Maps.GetAsync(Name, KeyOf(key), cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>How many keys it holds, Python's <c>len(d)</c>.</summary>
    public async ValueTask<int> CountAsync(CancellationToken cancellationToken = default) =>
        checked((int)await Maps.CountAsync(Name, cancellationToken).ConfigureAwait(false));

    /// <summary>Every entry, read at one moment, Python's <c>d.items()</c>.</summary>
    public async ValueTask<IReadOnlyList<KeyValuePair<TKey, TValue>>> ItemsAsync(CancellationToken cancellationToken = default)
    {
        var entries = await Maps.EntriesAsync(Name, cancellationToken).ConfigureAwait(false);
        return [.. entries.Select(entry => KeyValuePair.Create(
            Context.Serializer.Deserialize<TKey>(Encoding.UTF8.GetBytes(entry.Key), $"a key of dictionary '{Name}'"), Read(entry.Value)))];
    }

    /// <summary>Removes every key, Python's <c>clear()</c>.</summary>
    public ValueTask ClearAsync(CancellationToken cancellationToken = default) => Maps.ClearAsync(Name, cancellationToken);

    /// <summary>Python's <c>d.get(key, default)</c>.</summary>
    public TValue GetValueOrDefault(TKey key, TValue defaultValue) => TryGetValue(key, out var value) ? value : defaultValue;

    /// <summary>The value of <paramref name="key"/>, if the dictionary holds it.</summary>
    public bool TryGetValue(TKey key, out TValue value)
    {
        (var found, value) = Sync.Run(TryGetValueAsync(key));
        return found;
    }

    /// <summary>Adds <paramref name="key"/> unless the dictionary holds it; whether it did.</summary>
    public bool TryAdd(TKey key, TValue value) => Sync.Run(TryAddAsync(key, value));

    /// <summary>Python's <c>setdefault</c>.</summary>
    public TValue SetDefault(TKey key, TValue value) => Sync.Run(SetDefaultAsync(key, value));

    /// <summary>See <see cref="AddOrUpdateAsync"/>.</summary>
    public TValue AddOrUpdate(TKey key, TValue add, Func<TKey, TValue, TValue> update) => Sync.Run(AddOrUpdateAsync(key, add, update));

    /// <summary>Removes <paramref name="key"/>; whether the dictionary held it.</summary>
    public bool Remove(TKey key) => Sync.Run(RemoveAsync(key));

    /// <summary>Python's <c>pop(key)</c>.</summary>
    public bool TryRemove(TKey key, out TValue value)
    {
        (var found, value) = Sync.Run(TryRemoveAsync(key));
        return found;
    }

    /// <summary>Python's <c>key in d</c>.</summary>
    public bool ContainsKey(TKey key) => Sync.Run(ContainsKeyAsync(key));

    /// <summary>Python's <c>len(d)</c>.</summary>
    public int Count => Sync.Run(CountAsync());

    /// <summary>The keys, read at one moment, Python's <c>keys()</c>.</summary>
    public IReadOnlyList<TKey> Keys => [.. Items().Select(entry => entry.Key)];

    /// <summary>The values, read at one moment, Python's <c>values()</c>.</summary>
    public IReadOnlyList<TValue> Values => [.. Items().Select(entry => entry.Value)];

    /// <summary>Python's <c>items()</c>.</summary>
    public IReadOnlyList<KeyValuePair<TKey, TValue>> Items() => Sync.Run(ItemsAsync());

    /// <summary>Python's <c>clear()</c>.</summary>
    public void Clear() => Sync.Run(ClearAsync());

    /// <summary>Every entry, read at one moment.</summary>
    public IEnumerator<KeyValuePair<TKey, TValue>> GetEnumerator() => Items().GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private string KeyOf(TKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Encoding.UTF8.GetString(Context.Serializer.Serialize(key, $"a key of dictionary '{Name}'"));
    }

    private byte[] Write(TValue value) => Context.Serializer.Serialize(value, $"a value of dictionary '{Name}'");

    private TValue Read(byte[] body) => Context.Serializer.Deserialize<TValue>(body, $"a value of dictionary '{Name}'");

    internal override ValueTask ClearOnBrokerAsync(CancellationToken cancellationToken) => Context.Maps.ClearAsync(Name, cancellationToken);

    internal override HandleDescriptor Describe() => new(Kind, Name);

    internal static DictProxy<TKey, TValue> Attach(BrokerContext broker, HandleDescriptor descriptor) => new(descriptor.Name, broker);
}
