namespace Broker.UnitTests.Transport;

using Broker.Transport;
using Microsoft.Extensions.Time.Testing;

/// <summary>A caller's token joined with a time limit, on a clock that only moves when the test moves it.</summary>
public sealed class TimedCancellationTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void The_token_fires_when_the_limit_passes_on_the_clock_and_not_before()
    {
        using var timed = new TimedCancellation(TimeSpan.FromSeconds(5), _time, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(timed.Token.IsCancellationRequested);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(timed.Token.IsCancellationRequested);
        Assert.True(timed.TimedOut);
    }

    [Fact]
    public void The_callers_cancellation_fires_the_token_without_a_time_out()
    {
        using var caller = new CancellationTokenSource();
        using var timed = new TimedCancellation(TimeSpan.FromSeconds(5), _time, caller.Token);
        caller.Cancel();
        Assert.True(timed.Token.IsCancellationRequested);
        Assert.False(timed.TimedOut);
    }

    [Fact]
    public void No_limit_is_the_callers_token_itself_and_zero_has_passed_already()
    {
        using var caller = new CancellationTokenSource();
        using (var unlimited = new TimedCancellation(Timeout.InfiniteTimeSpan, _time, caller.Token))
        {
            _time.Advance(TimeSpan.FromDays(1));
            Assert.Equal(caller.Token, unlimited.Token);
            Assert.False(unlimited.TimedOut);
        }
        using var passed = new TimedCancellation(TimeSpan.Zero, _time, caller.Token);
        Assert.True(passed.Token.IsCancellationRequested);
        Assert.True(passed.TimedOut);
    }
}
