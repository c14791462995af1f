using System.Collections.Concurrent;

namespace Broker.Transport;

/// <summary>A group commit for a transport: items submitted while a batch is on its way to the broker wait, and go
/// together in the next batch, so that many concurrent callers cost one trip each time rather than one each. A lone
/// item goes at once, as nothing is waited for to fill a batch. Whichever caller finds no batch on its way writes the
/// next one, for the others too.</summary>
/// <param name="commit">Writes one batch (items oldest first, of a total size of at most <paramref name="most"/>) and
/// returns one result per item; an exception fails every item of the batch.</param>
/// <param name="most">The most items in one batch, or the largest total size when <paramref name="size"/> is given.</param>
/// <param name="size">How much of a batch an item fills; 1 by default. An item larger than <paramref name="most"/>
/// goes alone.</param>
public sealed class GroupCommit<TItem, TResult>(Func<IReadOnlyList<TItem>, Task<IReadOnlyList<TResult>>> commit, int most,
    Func<TItem, int>? size = null)
{
    private readonly ConcurrentQueue<(TItem Item, TaskCompletionSource<TResult> Done)> _waiting = new();
    private int _committing;

    /// <summary>Commits <paramref name="item"/> with the others waiting, and returns its result. Cancelling stops the
    /// wait, not the commit: an item already handed over may still be committed with its batch.</summary>
    public async Task<TResult> CommitAsync(TItem item, CancellationToken cancellationToken)
    {
        var done = Enqueue(item);
        await CommitWhileWaitingAsync().ConfigureAwait(false);
        return await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Commits <paramref name="items"/> as <see cref="CommitAsync"/> does, side by side in one batch as far as
    /// they fit in it, and returns their results in their order.</summary>
    public async Task<TResult[]> CommitAllAsync(IReadOnlyList<TItem> items, CancellationToken cancellationToken)
    {
        var done = new Task<TResult>[items.Count];
        for (var i = 0; i < done.Length; i++)
        {
            done[i] = Enqueue(items[i]).Task;
        }
        await CommitWhileWaitingAsync().ConfigureAwait(false);
        return await Task.WhenAll(done).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private TaskCompletionSource<TResult> Enqueue(TItem item)
    {
        var done = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting.Enqueue((item, done));
        return done;
    }

    /// <summary>Commits what waits unless a batch is on its way, whose writer then commits it.</summary>
    private async Task CommitWhileWaitingAsync()
    {
        while (!_waiting.IsEmpty && Interlocked.CompareExchange(ref _committing, 1, 0) == 0)
        {
            try
            {
                await CommitWaitingAsync().ConfigureAwait(false);
            }
            finally
            {
                // A full fence, so that the look at the queue above cannot come before it: an item enqueued by a
                // caller that found a batch on its way is then seen here, or that caller sees the way free.
                Interlocked.Exchange(ref _committing, 0);
            }
        }
    }

    private int SizeOf(TItem item) => size is null ? 1 : size(item);

    private async Task CommitWaitingAsync()
    {
        var batch = new List<(TItem Item, TaskCompletionSource<TResult> Done)>();
        var filled = 0;
        // Only the caller committing takes items out, so the item looked at is the one taken.
        while (_waiting.TryPeek(out var next) && (batch.Count == 0 || filled + SizeOf(next.Item) <= most))
        {
            filled += SizeOf(next.Item);
            _waiting.TryDequeue(out _);
            batch.Add(next);
        }
        try
        {
            var results = await commit(batch.ConvertAll(waiting => waiting.Item)).ConfigureAwait(false);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Done.TrySetResult(results[i]);
            }
        }
        catch (Exception e)
        {
            batch.ForEach(waiting => waiting.Done.TrySetException(e));
        }
    }
}
