namespace Broker.Transport.Redis;

/// <summary>A wake-up for waiters: each <see cref="Ring"/> completes the task that every waiter took before it.
/// Take <see cref="Next"/> before looking, so that a ring between the look and the wait is not missed.</summary>
internal sealed class Doorbell
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Next => Volatile.Read(ref _next).Task;

    public void Ring() =>
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
