using System.Numerics;
using Broker.Transport;

namespace Broker;

/// <summary>A number shared by processes, like <c>multiprocessing.Value</c>: <c>int</c>, <c>long</c> or
/// <c>double</c>. <see cref="AddAsync"/> and <see cref="CompareExchangeAsync"/> are atomic on the broker;
/// a read-modify-write of several steps holds <see cref="GetLock"/>, as in Python.</summary>
public sealed class Value<T> : BrokerHandle where T : struct, INumber<T>
{
    private const string Kind = "value";
    private readonly T _initial;
    private readonly HandleLock _lock;

    /// <param name="initial">The value it starts with.</param>
    /// <param name="name">The value's name on the broker; a unique one by default. A named value that exists
    /// already keeps its value: <paramref name="initial"/> applies only to the first.</param>
    /// <param name="broker">The broker; <see cref="BrokerContext.Default"/> by default.</param>
    /// <param name="lockWith">The lock <see cref="GetLock"/> returns, to share one lock among values (Python's
    /// <c>lock=some_lock</c>); by default an <see cref="RLock"/> of the value's own.</param>
    /// <param name="synchronized"><c>false</c> for a value without a lock, Python's <c>lock=False</c> (<c>RawValue</c>):
    /// <see cref="GetLock"/> then raises. The default is <c>true</c>.</param>
    public Value(T initial = default, string? name = null, BrokerContext? broker = null, LockHandle? lockWith = null, bool synchronized = true)
        : base(broker, name, Kind, create: true)
    {
        _initial = initial;
        _lock = HandleLock.For(this, lockWith, synchronized);
    }

    private Value(BrokerContext broker, HandleDescriptor descriptor)
        : base(broker, descriptor.Name, Kind, create: false)
    {
        _lock = HandleLock.Attach(this, descriptor.Lock);
    }

    private IValueBackend Backend => Context.Values;

    /// <summary>Reads the value, Python's <c>v.value</c>.</summary>
    public async ValueTask<T> GetAsync(CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        return (await Backend.GetAsync(Name, Scalar.KindOf<T>(), cancellationToken).ConfigureAwait(false)).To<T>();
    }

    /// <summary>Sets the value, Python's <c>v.value = x</c>.</summary>
    public async ValueTask SetAsync(T value, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        await Backend.SetAsync(Name, Scalar.From(value), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Adds <paramref name="delta"/> atomically and returns the new value.</summary>
    public async ValueTask<T> AddAsync(T delta, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        return (await Backend.AddAsync(Name, Scalar.From(delta), cancellationToken).ConfigureAwait(false)).To<T>();
    }

    /// <summary>Sets <paramref name="value"/> if the value equals <paramref name="comparand"/>, atomically;
    /// returns the value found, as <see cref="Interlocked.CompareExchange(ref int, int, int)"/> does.</summary>
    public async ValueTask<T> CompareExchangeAsync(T value, T comparand, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        return (await Backend.CompareExchangeAsync(Name, Scalar.From(value), Scalar.From(comparand), cancellationToken).ConfigureAwait(false)).To<T>();
    }

    /// <summary>Python's <c>v.value</c>.</summary>
    public T Get() => Sync.Run(GetAsync());

    /// <summary>Python's <c>v.value = x</c>.</summary>
    public void Set(T value) => Sync.Run(SetAsync(value));

    /// <summary>The synchronous twin of <see cref="AddAsync"/>.</summary>
    public T Add(T delta) => Sync.Run(AddAsync(delta));

    /// <summary>The synchronous twin of <see cref="CompareExchangeAsync"/>.</summary>
    public T CompareExchange(T value, T comparand) => Sync.Run(CompareExchangeAsync(value, comparand));

    /// <summary>The lock that guards this value, Python's <c>get_lock()</c>: hold it for a read-modify-write.</summary>
    /// <exception cref="InvalidOperationException">The value was made with <c>synchronized: false</c>.</exception>
    public LockHandle GetLock() => _lock.Get();

    private protected override Task CreateAsync(CancellationToken cancellationToken) =>
        Backend.InitializeAsync(Name, Scalar.From(_initial), cancellationToken).AsTask();

    internal override HandleDescriptor Describe() => new(Kind, Name, Lock: _lock.Descriptor);

    internal static Value<T> Attach(BrokerContext broker, HandleDescriptor descriptor) => new(broker, descriptor);
}

/// <summary>A fixed-length array of numbers shared by processes, like <c>multiprocessing.Array</c>. Each element is
/// read, written and added to atomically; a change across elements holds <see cref="GetLock"/>.</summary>
public sealed class Array<T> : BrokerHandle where T : struct, INumber<T>
{
    private const string Kind = "array";
    private readonly T[]? _initial;
    private readonly HandleLock _lock;

    /// <summary>An array of <paramref name="length"/> zeros.</summary>
    /// <param name="length">Its length.</param>
    /// <param name="name">The array's name on the broker; a unique one by default.</param>
    /// <param name="broker">The broker; <see cref="BrokerContext.Default"/> by default.</param>
    /// <param name="lockWith">The lock <see cref="GetLock"/> returns; by default an <see cref="RLock"/> of its own.</param>
    /// <param name="synchronized"><c>false</c> for an array without a lock (Python's <c>RawArray</c>).</param>
    public Array(int length, string? name = null, BrokerContext? broker = null, LockHandle? lockWith = null, bool synchronized = true)
        : this(broker, name, length, new T[CheckLength(length)], null)
    {
        _lock = HandleLock.For(this, lockWith, synchronized);
    }

    /// <summary>An array holding <paramref name="values"/>.</summary>
    /// <inheritdoc cref="Array{T}(int, string?, BrokerContext?, LockHandle?, bool)" path="/param[@name!='length']"/>
    public Array(IEnumerable<T> values, string? name = null, BrokerContext? broker = null, LockHandle? lockWith = null, bool synchronized = true)
        : this(broker, name, values.ToArray(), lockWith, synchronized)
    {
    }

    private Array(BrokerContext? broker, string? name, T[] values, LockHandle? lockWith, bool synchronized)
        : this(broker, name, values.Length, values, null)
    {
        _lock = HandleLock.For(this, lockWith, synchronized);
    }

    // The descriptor is set when the array is attached in a child; a new array (null) sets its lock itself.
    private Array(BrokerContext? broker, string? name, int length, T[]? initial, HandleDescriptor? descriptor)
        : base(broker, name, Kind, create: descriptor is null)
    {
        Length = length;
        _initial = initial;
        _lock = descriptor is null ? null! : HandleLock.Attach(this, descriptor.Lock);
    }

    /// <summary>The number of elements, Python's <c>len(arr)</c>.</summary>
    public int Length { get; }

    private IValueBackend Backend => Context.Values;

    /// <summary>Python's <c>arr[i]</c> and <c>arr[i] = x</c>; each element on its own is atomic.</summary>
    public T this[int index]
    {
        get => Sync.Run(GetAsync(index));
        set => Sync.Run(SetAsync(index, value));
    }

    /// <summary>Reads element <paramref name="index"/>.</summary>
    public async ValueTask<T> GetAsync(int index, CancellationToken cancellationToken = default)
    {
        var element = ElementName(index);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        return (await Backend.GetAsync(element, Scalar.KindOf<T>(), cancellationToken).ConfigureAwait(false)).To<T>();
    }

    /// <summary>Sets element <paramref name="index"/>.</summary>
    public async ValueTask SetAsync(int index, T value, CancellationToken cancellationToken = default)
    {
        var element = ElementName(index);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        await Backend.SetAsync(element, Scalar.From(value), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Adds <paramref name="delta"/> to one element atomically and returns its new value.</summary>
    public async ValueTask<T> AddAsync(int index, T delta, CancellationToken cancellationToken = default)
    {
        var element = ElementName(index);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        return (await Backend.AddAsync(element, Scalar.From(delta), cancellationToken).ConfigureAwait(false)).To<T>();
    }

    /// <summary>The synchronous twin of <see cref="AddAsync(int, T, CancellationToken)"/>.</summary>
    public T Add(int index, T delta) => Sync.Run(AddAsync(index, delta));

    /// <summary>Reads every element, Python's <c>arr[:]</c>; not a snapshot unless <see cref="GetLock"/> is held.</summary>
    public async ValueTask<T[]> ToArrayAsync(CancellationToken cancellationToken = default)
    {
        var values = new T[Length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = await GetAsync(i, cancellationToken).ConfigureAwait(false);
        }
        return values;
    }

    /// <summary>The synchronous twin of <see cref="ToArrayAsync"/>.</summary>
    public T[] ToArray() => Sync.Run(ToArrayAsync());

    /// <summary>The lock that guards this array, Python's <c>get_lock()</c>.</summary>
    /// <exception cref="InvalidOperationException">The array was made with <c>synchronized: false</c>.</exception>
    public LockHandle GetLock() => _lock.Get();

    private protected override async Task CreateAsync(CancellationToken cancellationToken)
    {
        for (var i = 0; i < Length; i++)
        {
            await Backend.InitializeAsync($"{Name}[{i}]", Scalar.From(_initial![i]), cancellationToken).ConfigureAwait(false);
        }
    }

    internal override HandleDescriptor Describe() => new(Kind, Name, Length, _lock.Descriptor);

    internal static Array<T> Attach(BrokerContext broker, HandleDescriptor descriptor) =>
        new(broker, descriptor.Name, CheckLength(descriptor.Size), null, descriptor);

    private string ElementName(int index) =>
        (uint)index < (uint)Length ? $"{Name}[{index}]" : throw new IndexOutOfRangeException($"Index {index} is outside array '{Name}' of length {Length}.");

    private static int CheckLength(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return length;
    }
}
