using System.Collections.Concurrent;

namespace Broker.Transport;

/// <summary>A group commit for a transport: items submitted while a batch is on its way to the broker wait, and go
/// together in the next batch, so that many concurrent callers cost one trip each time rather than one each. A lone
/// item goes at once, as nothing is waited for to fill a batch. Whichever caller finds no batch on its way writes the
/// next one, for the others too.</summary>
/// <param name="commit">Writes one batch (at most <paramref name="most"/> items, oldest first) and returns one
/// result per item; an exception fails every item of the batch.</param>
/// <param name="most">The most items in one batch.</param>
public sealed class GroupCommit<TItem, TResult>(Func<IReadOnlyList<TItem>, Task<IReadOnlyList<TResult>>> commit, int most)
{
    private readonly ConcurrentQueue<(TItem Item, TaskCompletionSource<TResult> Done)> _waiting = new();
    private int _committing;

    /// <summary>Commits <paramref name="item"/> with the others waiting, and returns its result. Cancelling stops the
    /// wait, not the commit: an item already handed over may still be committed with its batch.</summary>
    public async Task<TResult> CommitAsync(TItem item, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting.Enqueue((item, done));
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
        return await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task CommitWaitingAsync()
    {
        var batch = new List<(TItem Item, TaskCompletionSource<TResult> Done)>();
        while (batch.Count < most && _waiting.TryDequeue(out var next))
        {
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
