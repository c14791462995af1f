using System.Text;
using Broker.Transport;

namespace Broker;

/// <summary>Named, typed attributes on the broker, what Python's <c>Manager().Namespace()</c> gives: <c>ns.x = 1</c>
/// is <c>ns.Set("x", 1)</c> and <c>ns.x</c> is <c>ns.Get&lt;int&gt;("x")</c>. Every process that holds it (it passes to
/// children and pool tasks as an argument) sees the same attributes; each read and write is one atomic step.</summary>
public sealed class NamespaceProxy : ManagedCollection
{
    private const string Kind = "namespace";

    /// <param name="name">The namespace's name on the broker; a unique one by default.</param>
    /// <param name="broker">The broker; <see cref="BrokerContext.Default"/> by default.</param>
    public NamespaceProxy(string? name = null, BrokerContext? broker = null)
        : base(broker, name, Kind)
    {
    }

    private IMapBackend Maps => Usable.Maps;

    /// <summary>The attribute <paramref name="attribute"/>, read as <typeparamref name="T"/>.</summary>
    /// <exception cref="KeyNotFoundException">The namespace has no such attribute (Python's <c>AttributeError</c>).</exception>
    public async ValueTask<T> GetAsync<T>(string attribute, CancellationToken cancellationToken = default) =>
        await Maps.GetAsync(Name, Checked(attribute), cancellationToken).ConfigureAwait(false) is { } body
            ? Context.Serializer.Deserialize<T>(body, What(attribute))
            : throw new KeyNotFoundException($"Namespace '{Name}' has no attribute '{attribute}'.");

    /// <summary>Sets the attribute <paramref name="attribute"/>, Python's <c>ns.attribute = value</c>.</summary>
    public ValueTask SetAsync<T>(string attribute, T value, CancellationToken cancellationToken = default) =>
        Maps.SetAsync(Name, Checked(attribute), Context.Serializer.Serialize(value, What(attribute)), cancellationToken);

    /// <summary>Removes the attribute, Python's <c>del ns.attribute</c>; whether it was there.</summary>
    public async ValueTask<bool> RemoveAsync(string attribute, CancellationToken cancellationToken = default) =>
        await Maps.RemoveAsync(Name, Checked(attribute), cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>The attributes' names, read at one moment.</summary>
    public async ValueTask<IReadOnlyList<string>> AttributesAsync(CancellationToken cancellationToken = default) =>
        [.. (await Maps.EntriesAsync(Name, cancellationToken).ConfigureAwait(false)).Select(entry => entry.Key).Order(StringComparer.Ordinal)];

    /// <summary>Python's <c>ns.attribute</c>.</summary>
    public T Get<T>(string attribute) => Sync.Run(GetAsync<T>(attribute));

    /// <summary>Python's <c>ns.attribute = value</c>.</summary>
    public void Set<T>(string attribute, T value) => Sync.Run(SetAsync(attribute, value));

    /// <summary>Python's <c>del ns.attribute</c>.</summary>
    public bool Remove(string attribute) => Sync.Run(RemoveAsync(attribute));

    /// <summary>The attributes' names, Python's <c>vars(ns)</c> keys.</summary>
    public IReadOnlyList<string> Attributes() => Sync.Run(AttributesAsync());

    /// <summary>The attributes as Python's <c>repr(ns)</c> shows them, <c>Namespace(a=1, b="x")</c>, the values as
    /// JSON, read at one moment. (<see cref="object.ToString"/> names the handle and reads nothing.)</summary>
    public string Repr()
    {
        var entries = Sync.Run(Maps.EntriesAsync(Name, CancellationToken.None));
        return $"Namespace({string.Join(", ", entries.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}={Encoding.UTF8.GetString(e.Value)}"))})";
    }

    private static string Checked(string attribute) =>
        BrokerNames.Validate(attribute, "namespace attribute");

    private string What(string attribute) => $"attribute '{attribute}' of namespace '{Name}'";

    internal override ValueTask ClearOnBrokerAsync(CancellationToken cancellationToken) => Context.Maps.ClearAsync(Name, cancellationToken);

    internal override HandleDescriptor Describe() => new(Kind, Name);

    internal static NamespaceProxy Attach(BrokerContext broker, HandleDescriptor descriptor) => new(descriptor.Name, broker);
}
