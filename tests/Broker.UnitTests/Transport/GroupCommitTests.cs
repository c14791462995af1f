namespace Broker.UnitTests.Transport;

using Broker.Transport;

/// <summary>A transport's group commit: a lone item goes at once, items that come while a batch is on its way go
/// together in the next, within the batch's size.</summary>
public sealed class GroupCommitTests
{
    private readonly List<int[]> _batches = [];
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private GroupCommit<int, int> Commit(int most, Func<int, int>? size = null, bool hold = false) => new(async batch =>
    {
        lock (_batches)
        {
            _batches.Add([.. batch]);
        }
        if (hold)
        {
            await _release.Task;
        }
        return [.. batch.Select(item => item * 10)];
    }, most, size);

    [Fact]
    public async Task A_lone_item_goes_at_once_in_a_batch_of_its_own()
    {
        Assert.Equal(10, await Commit(most: 8).CommitAsync(1, CancellationToken.None));
        Assert.Equal([[1]], _batches);
    }

    [Fact]
    public async Task Items_that_come_while_a_batch_is_on_its_way_go_together_in_the_next_within_its_size()
    {
        var commit = Commit(most: 2, hold: true);
        var first = commit.CommitAsync(1, CancellationToken.None);
        var waiting = new[] { 2, 3, 4 }.Select(item => commit.CommitAsync(item, CancellationToken.None)).ToList();
        _release.SetResult();
        Assert.Equal(10, await first);
        Assert.Equal(new[] { 20, 30, 40 }, await Task.WhenAll(waiting));
        Assert.Equal([[1], [2, 3], [4]], _batches);
    }

    [Fact]
    public async Task Items_committed_all_at_once_go_side_by_side_in_one_batch_and_answer_in_their_order()
    {
        Assert.Equal(new[] { 10, 20, 30 }, await Commit(most: 8).CommitAllAsync([1, 2, 3], CancellationToken.None));
        Assert.Equal([[1, 2, 3]], _batches);
    }

    [Fact]
    public async Task An_item_larger_than_a_batch_goes_alone()
    {
        var commit = Commit(most: 4, size: item => item, hold: true);
        var first = commit.CommitAsync(1, CancellationToken.None);
        var waiting = commit.CommitAllAsync([9, 2, 2], CancellationToken.None);
        _release.SetResult();
        await first;
        Assert.Equal(new[] { 90, 20, 20 }, await waiting);
        Assert.Equal([[1], [9], [2, 2]], _batches);
    }

    [Fact]
    public async Task A_failed_commit_fails_every_item_of_its_batch_and_the_next_batch_goes_on()
    {
        var calls = 0;
        var commit = new GroupCommit<int, int>(batch => ++calls == 2
            ? throw new InvalidOperationException("refused")
            : Task.FromResult<IReadOnlyList<int>>([.. batch]), most: 8);
        Assert.Equal(1, await commit.CommitAsync(1, CancellationToken.None));
        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() => commit.CommitAllAsync([2, 3], CancellationToken.None));
        Assert.Equal("refused", failed.Message);
        Assert.Equal(4, await commit.CommitAsync(4, CancellationToken.None));
    }
}
