namespace Broker.Conformance;

using Broker;
using Microsoft.Extensions.Time.Testing;

/// <summary>A timeout the client keeps runs on <see cref="BrokerOptions.TimeProvider"/>: a get that would wait five
/// minutes gives up as soon as a fake clock passes them, and not before. Once per transport whose waits the client
/// times (the local broker times its own, in the process that hosts it).</summary>
public abstract class FakeClockTests
{
    protected abstract string Url { get; }

    [Fact]
    public async Task A_get_with_a_timeout_gives_up_when_the_clock_passes_it_and_not_before()
    {
        var time = new FakeTimeProvider();
        await using var context = BrokerContext.Connect(Url, new BrokerOptions { TimeProvider = time });
        var queue = new Queue<int>(broker: context);
        await queue.PutAsync(1);
        Assert.Equal(1, await queue.GetAsync(TimeSpan.FromSeconds(30)));

        var getting = queue.GetAsync(TimeSpan.FromMinutes(5)).AsTask();
        // Real time passes, more than a poll interval; the clock the get waits on does not move.
        await Task.Delay(TimeSpan.FromMilliseconds(800));
        Assert.False(getting.IsCompleted);
        time.Advance(TimeSpan.FromMinutes(5));
        await Assert.ThrowsAsync<QueueEmptyException>(() => getting.WaitAsync(TimeSpan.FromSeconds(30)));
    }
}
