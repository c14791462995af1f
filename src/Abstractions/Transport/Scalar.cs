using System.Globalization;
using System.Numerics;

namespace Broker.Transport;

/// <summary>Whether a number is kept as a 64-bit integer or a double.</summary>
public enum ScalarKind : byte
{
    /// <summary>A 64-bit integer.</summary>
    Integer = 0,
    /// <summary>A double.</summary>
    Float = 1,
}

/// <summary>A number as a transport keeps it: a 64-bit integer or a double.</summary>
public readonly record struct Scalar
{
    private Scalar(ScalarKind kind, long integer, double @float)
    {
        Kind = kind;
        Integer = integer;
        Float = @float;
    }

    /// <summary>Which of <see cref="Integer"/> and <see cref="Float"/> holds the number.</summary>
    public ScalarKind Kind { get; }
    /// <summary>The number, if it is an integer.</summary>
    public long Integer { get; }
    /// <summary>The number, if it is a double.</summary>
    public double Float { get; }

    /// <summary>An integer.</summary>
    public static Scalar FromInteger(long value) => new(ScalarKind.Integer, value, 0);
    /// <summary>A double.</summary>
    public static Scalar FromFloat(double value) => new(ScalarKind.Float, 0, value);
    /// <summary>Zero of <paramref name="kind"/>.</summary>
    public static Scalar Zero(ScalarKind kind) => kind == ScalarKind.Integer ? FromInteger(0) : FromFloat(0);

    /// <summary>The number as 64 bits: the integer itself, or the double's IEEE 754 bits.</summary>
    public long Bits => Kind == ScalarKind.Integer ? Integer : BitConverter.DoubleToInt64Bits(Float);

    /// <summary>The number whose <see cref="Bits"/> are <paramref name="bits"/>.</summary>
    public static Scalar FromBits(ScalarKind kind, long bits) =>
        kind == ScalarKind.Integer ? FromInteger(bits) : FromFloat(BitConverter.Int64BitsToDouble(bits));

    /// <summary>The kind a CLR number is kept as: integers as <see cref="ScalarKind.Integer"/>, others as doubles.</summary>
    public static ScalarKind KindOf<T>() where T : INumber<T> => KindCache<T>.Kind;

    /// <summary>A CLR number as the kind <see cref="KindOf{T}"/> gives.</summary>
    public static Scalar From<T>(T value) where T : INumber<T> =>
        KindOf<T>() == ScalarKind.Integer ? FromInteger(long.CreateTruncating(value)) : FromFloat(double.CreateChecked(value));

    /// <summary>The number as <typeparamref name="T"/>, truncated if need be.</summary>
    public T To<T>() where T : INumber<T> =>
        Kind == ScalarKind.Integer ? T.CreateTruncating(Integer) : T.CreateTruncating(Float);

    /// <summary>The sum: an integer if both are, else a double.</summary>
    public Scalar Add(Scalar delta) =>
        Kind == ScalarKind.Integer && delta.Kind == ScalarKind.Integer
            ? FromInteger(unchecked(Integer + delta.Integer))
            : FromFloat(AsDouble + delta.AsDouble);

    /// <summary>Numeric equality across kinds, as Python compares <c>1 == 1.0</c>.</summary>
    public bool NumericallyEquals(Scalar other) =>
        Kind == ScalarKind.Integer && other.Kind == ScalarKind.Integer ? Integer == other.Integer : AsDouble == other.AsDouble;

    /// <summary>Converts to <paramref name="kind"/>, truncating a double read as an integer.</summary>
    public Scalar As(ScalarKind kind) =>
        kind == Kind ? this : kind == ScalarKind.Integer ? FromInteger((long)Float) : FromFloat(Integer);

    /// <summary>Invariant text, as Redis keeps numbers.</summary>
    public override string ToString() =>
        Kind == ScalarKind.Integer ? Integer.ToString(CultureInfo.InvariantCulture) : Float.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Parses invariant text as <paramref name="kind"/>.</summary>
    public static Scalar Parse(string text, ScalarKind kind) =>
        kind == ScalarKind.Integer && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var integer)
            ? FromInteger(integer)
            : FromFloat(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)).As(kind);

    private double AsDouble => Kind == ScalarKind.Integer ? Integer : Float;

    private static class KindCache<T>
    {
        public static readonly ScalarKind Kind = typeof(T).GetInterfaces()
            .Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IBinaryInteger<>))
            ? ScalarKind.Integer
            : ScalarKind.Float;
    }
}
