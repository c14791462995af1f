using StackExchange.Redis;

namespace Broker.Transport.Redis;

// Waiting: an atomic try, then a pub/sub doorbell or the poll interval, and again.
internal sealed partial class RedisTransport
{
    /// <summary>Tries <paramref name="attempt"/> until it succeeds or <paramref name="timeout"/> passes, waking on the
    /// channel's doorbell or every poll interval. The doorbell is taken before each attempt, so a ring in between
    /// is not missed.</summary>
    private async ValueTask<bool> WaitAsync(string channel, TimeSpan timeout, Func<CancellationToken, Task<bool>> attempt, CancellationToken cancellationToken)
    {
        // The call's timeout also bounds the retries of a lost connection: the attempts run against it.
        // A timeout of zero still makes its one attempt, whatever the clock says.
        var deadline = new Deadline(timeout, _time);
        using var bounded = new TimedCancellation(timeout == TimeSpan.Zero ? Timeout.InfiniteTimeSpan : timeout, _time, cancellationToken);
        if (await attempt(bounded.Token).ConfigureAwait(false))
        {
            return true;
        }
        if (timeout == TimeSpan.Zero)
        {
            return false;
        }
        var doorbell = await DoorbellAsync(channel).ConfigureAwait(false);
        while (true)
        {
            var rung = doorbell.Next;
            try
            {
                if (await attempt(bounded.Token).ConfigureAwait(false))
                {
                    return true;
                }
            }
            catch (BrokerUnavailableException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
            var pause = deadline.Pause(_options.Poll);
            if (pause <= TimeSpan.Zero)
            {
                return false;
            }
            await Task.WhenAny(rung, Task.Delay(pause, _time, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private Task<Doorbell> DoorbellAsync(string channel) =>
        _doorbells.GetOrAdd(channel, c => new Lazy<Task<Doorbell>>(() => SubscribeAsync(c))).Value;

    /// <summary>A doorbell that every message on <paramref name="channel"/> rings. The subscription is retried as any
    /// command is (a new connection may take commands before it takes subscriptions); one that still failed is
    /// forgotten, so that the next wait subscribes again instead of failing for the life of this transport.</summary>
    private async Task<Doorbell> SubscribeAsync(string channel)
    {
        var doorbell = new Doorbell();
        try
        {
            await RunAsync(static async (db, s) =>
            {
                await db.Multiplexer.GetSubscriber().SubscribeAsync(RedisChannel.Literal(s.Channel), (_, _) => s.Doorbell.Ring()).ConfigureAwait(false);
                return true;
            }, (Channel: channel, Doorbell: doorbell), CancellationToken.None).ConfigureAwait(false);
            return doorbell;
        }
        catch
        {
            _doorbells.TryRemove(channel, out _);
            throw;
        }
    }
}
