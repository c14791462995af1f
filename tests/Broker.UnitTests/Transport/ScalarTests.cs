namespace Broker.UnitTests.Transport;

using Broker.Transport;

/// <summary>Numbers as transports keep them: integers stay exact, doubles keep their bits, and kinds mix as Python's do.</summary>
public sealed class ScalarTests
{
    [Fact]
    public void Integers_and_doubles_keep_their_kind_and_value()
    {
        Assert.Equal(ScalarKind.Integer, Scalar.KindOf<int>());
        Assert.Equal(ScalarKind.Integer, Scalar.KindOf<long>());
        Assert.Equal(ScalarKind.Float, Scalar.KindOf<double>());
        Assert.Equal(long.MaxValue, Scalar.From(long.MaxValue).To<long>());
        Assert.Equal(0.1, Scalar.From(0.1).To<double>());
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    [InlineData(double.Epsilon)]
    [InlineData(-1e308)]
    public void A_double_travels_as_its_bits(double value)
    {
        var scalar = Scalar.From(value);
        Assert.Equal(BitConverter.DoubleToInt64Bits(value), BitConverter.DoubleToInt64Bits(Scalar.FromBits(ScalarKind.Float, scalar.Bits).Float));
    }

    [Fact]
    public void Integer_addition_wraps_as_a_64_bit_integer_and_a_double_makes_the_sum_a_double()
    {
        Assert.Equal(long.MinValue, Scalar.FromInteger(long.MaxValue).Add(Scalar.FromInteger(1)).Integer);
        var mixed = Scalar.FromInteger(1).Add(Scalar.FromFloat(0.5));
        Assert.Equal(ScalarKind.Float, mixed.Kind);
        Assert.Equal(1.5, mixed.Float);
    }

    [Fact]
    public void Kinds_compare_by_value_as_in_Python()
    {
        Assert.True(Scalar.FromInteger(1).NumericallyEquals(Scalar.FromFloat(1.0)));
        Assert.False(Scalar.FromInteger(1).NumericallyEquals(Scalar.FromFloat(1.5)));
        Assert.Equal(2, Scalar.FromFloat(2.9).As(ScalarKind.Integer).Integer);
    }
}
