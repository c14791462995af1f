namespace Broker.Conformance;

using Broker;

/// <summary>The pool all the way async: a call's wait can be cancelled, and a map tells its progress.</summary>
public abstract partial class TransportPoolTests
{
    [Fact]
    public async Task Cancelling_a_call_ends_its_wait_at_once_and_drops_its_answer_and_the_pool_goes_on()
    {
        await using var pool = new Pool(1, broker: Broker);
        var go = new Event(broker: Broker);
        using var cancel = new CancellationTokenSource();
        var errors = new List<Exception>();
        var waiting = pool.ApplyAsync<int>(Tasks.SquareWhenSet, [go, 3], errorCallback: errors.Add, cancellationToken: cancel.Token);
        var mapping = pool.MapAsync(Tasks.Square, [1, 2], cancellationToken: cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.Task.WaitAsync(Patience));
        Assert.True(waiting.Task.IsCanceled);
        Assert.IsAssignableFrom<OperationCanceledException>(Assert.Single(errors));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => mapping.Task.WaitAsync(Patience));

        await go.SetAsync();
        Assert.Equal(16, await pool.ApplyAsync<int>(Tasks.Square, [4]).Task.WaitAsync(Patience));
        pool.Close();
        await pool.JoinAsync().AsTask().WaitAsync(Patience);
        Assert.True(waiting.Task.IsCanceled, "the answer that came after the cancellation was dropped");
    }

    [Fact]
    public async Task A_call_with_a_cancelled_token_is_cancelled_without_being_sent()
    {
        await using var pool = new Pool(1, broker: Broker);
        var applied = pool.ApplyAsync<int>(Tasks.Square, [2], cancellationToken: new CancellationToken(canceled: true));
        var mapped = pool.StarmapAsync<int>(Tasks.Add, [[1, 2]], cancellationToken: new CancellationToken(canceled: true));
        Assert.True(applied.Task.IsCanceled);
        Assert.True(mapped.Task.IsCanceled);
        pool.Close();
        await pool.JoinAsync().AsTask().WaitAsync(Patience);
    }

    [Fact]
    public async Task A_map_and_an_imap_report_their_progress_chunk_by_chunk()
    {
        await using var pool = new Pool(2, broker: Broker);
        var mapped = new Recorded();
        var squares = await pool.MapAsync(Tasks.Square, Enumerable.Range(0, 10), chunksize: 3, progress: mapped).Task.WaitAsync(Patience);
        Assert.Equal(Enumerable.Range(0, 10).Select(x => x * x), squares);
        // Four chunks (3, 3, 3 and 1 items), each reported once its results are in, in the order they came.
        Assert.Equal(4, mapped.Reports.Count);
        Assert.Equal(10, mapped.Done[^1]);
        Assert.All(mapped.Reports, report => Assert.Equal(10, report.Total));

        var streamed = new Recorded();
        Assert.Equal(5, await pool.ImapAsync(Tasks.Square, Enumerable.Range(0, 5), chunksize: 2, progress: streamed).CountAsync());
        Assert.Equal([2, 4, 5], streamed.Done);
        Assert.Equal(new PoolProgress(5, 5), streamed.Reports[^1]);
    }

    /// <summary>Reports as they are made, on the thread that makes them.</summary>
    private sealed class Recorded : IProgress<PoolProgress>
    {
        private readonly List<PoolProgress> _reports = [];

        public List<PoolProgress> Reports
        {
            get
            {
                lock (_reports)
                {
                    return [.. _reports];
                }
            }
        }

        public List<int> Done => [.. Reports.Select(report => report.Done).Order()];

        public void Report(PoolProgress value)
        {
            lock (_reports)
            {
                _reports.Add(value);
            }
        }
    }
}
