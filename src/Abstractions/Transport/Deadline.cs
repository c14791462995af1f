namespace Broker.Transport;

/// <summary>The end of a wait, on a clock: how a call's timeout becomes the pauses of a wait that tries, pauses and
/// tries again. <see cref="Timeout.InfiniteTimeSpan"/> never ends; <see cref="TimeSpan.Zero"/> has ended already.</summary>
public readonly struct Deadline
{
    private readonly TimeProvider _time;
    private readonly long _started;

    /// <summary>A deadline <paramref name="timeout"/> from now on <paramref name="time"/>.</summary>
    /// <param name="timeout">The time the wait may take, or <see cref="Timeout.InfiniteTimeSpan"/>.</param>
    /// <param name="time">The clock: <see cref="BrokerOptions.TimeProvider"/>.</param>
    public Deadline(TimeSpan timeout, TimeProvider time)
    {
        _time = time;
        _started = time.GetTimestamp();
        Timeout = timeout;
    }

    /// <summary>The timeout the deadline was made with.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Whether the wait has no end.</summary>
    public bool IsInfinite => Timeout == System.Threading.Timeout.InfiniteTimeSpan;

    /// <summary>The time left: <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> for a wait without end, zero once
    /// the deadline passed.</summary>
    public TimeSpan Remaining
    {
        get
        {
            if (IsInfinite)
            {
                return Timeout;
            }
            var left = Timeout - _time.GetElapsedTime(_started);
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    /// <summary>The next pause of a wait that pauses <paramref name="pause"/> between tries: shortened to the time left,
    /// and zero once the deadline passed (the wait then gives up).</summary>
    public TimeSpan Pause(TimeSpan pause)
    {
        var left = Remaining;
        return IsInfinite || pause < left ? pause : left;
    }

    /// <summary>Waits <see cref="Pause"/> of <paramref name="pause"/> on the deadline's clock; false, at once, if the
    /// deadline has passed.</summary>
    public async ValueTask<bool> PauseAsync(TimeSpan pause, CancellationToken cancellationToken)
    {
        var wait = Pause(pause);
        if (wait <= TimeSpan.Zero)
        {
            return false;
        }
        await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        return true;
    }
}
