namespace Broker.Transport;

/// <summary>A caller's token joined with a time limit on a clock, for a wait that ends at whichever comes first:
/// <see cref="Token"/> fires when either does, and <see cref="TimedOut"/> says whether the time limit did.</summary>
public sealed class TimedCancellation : IDisposable
{
    private readonly CancellationTokenSource? _timer;
    private readonly CancellationTokenSource? _linked;

    /// <summary>Joins <paramref name="cancellationToken"/> with a limit of <paramref name="limit"/> from now.</summary>
    /// <param name="limit">The time the wait may take; <see cref="Timeout.InfiniteTimeSpan"/> adds no limit, and
    /// <see cref="TimeSpan.Zero"/> has passed already.</param>
    /// <param name="time">The clock: <see cref="BrokerOptions.TimeProvider"/>.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    public TimedCancellation(TimeSpan limit, TimeProvider time, CancellationToken cancellationToken)
    {
        if (limit == Timeout.InfiniteTimeSpan)
        {
            Token = cancellationToken;
            return;
        }
        _timer = new CancellationTokenSource(limit, time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _timer.Token);
        Token = _linked.Token;
    }

    /// <summary>Fires when the caller's token does or the limit passes.</summary>
    public CancellationToken Token { get; }

    /// <summary>Whether the limit passed.</summary>
    public bool TimedOut => _timer?.IsCancellationRequested == true;

    /// <inheritdoc/>
    public void Dispose()
    {
        _linked?.Dispose();
        _timer?.Dispose();
    }
}
