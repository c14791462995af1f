namespace Broker.UnitTests.Transport;

using Broker.Transport;
using Microsoft.Extensions.Time.Testing;

/// <summary>A wait's deadline on a clock that only moves when the test moves it.</summary>
public sealed class DeadlineTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Pauses_shorten_to_what_is_left_and_end_once_the_deadline_passed()
    {
        var deadline = new Deadline(TimeSpan.FromSeconds(1), _time);
        Assert.Equal(TimeSpan.FromMilliseconds(200), deadline.Pause(TimeSpan.FromMilliseconds(200)));
        _time.Advance(TimeSpan.FromMilliseconds(900));
        Assert.Equal(TimeSpan.FromMilliseconds(100), deadline.Pause(TimeSpan.FromMilliseconds(200)));
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(TimeSpan.Zero, deadline.Remaining);
        Assert.Equal(TimeSpan.Zero, deadline.Pause(TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public void A_wait_without_end_pauses_as_asked_for_ever()
    {
        var deadline = new Deadline(Timeout.InfiniteTimeSpan, _time);
        _time.Advance(TimeSpan.FromDays(400));
        Assert.True(deadline.IsInfinite);
        Assert.Equal(Timeout.InfiniteTimeSpan, deadline.Remaining);
        Assert.Equal(TimeSpan.FromSeconds(1), deadline.Pause(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task A_pause_ends_when_the_clock_moves_and_none_begins_after_the_deadline()
    {
        var deadline = new Deadline(TimeSpan.FromSeconds(10), _time);
        var pausing = deadline.PauseAsync(TimeSpan.FromSeconds(4), CancellationToken.None).AsTask();
        Assert.False(pausing.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.True(await pausing);
        _time.Advance(TimeSpan.FromSeconds(6));
        Assert.False(await deadline.PauseAsync(TimeSpan.FromSeconds(4), CancellationToken.None));
    }
}
