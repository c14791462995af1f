namespace Broker.Conformance;

using Broker;

/// <summary>What an operator sees of the queues from another process, through <see cref="BrokerInspector"/>: each
/// queue with its counts, its dead letters shown without taking them and put back whole, and purges that keep a
/// Join exact.</summary>
public abstract partial class QueueConformanceTests
{
    [Fact]
    public async Task The_listing_shows_each_queue_with_its_waiting_unfinished_and_dead_letters()
    {
        var joinable = new JoinableQueue<int>(broker: Broker);
        var plain = new Queue<int>(broker: Broker);
        foreach (var i in new[] { 1, 2, 3 })
        {
            await joinable.PutAsync(i);
        }
        Assert.Equal(1, await joinable.GetAsync(Patience));
        await plain.PutAsync(7);
        await plain.PutAsync(8);
        await joinable.DeadLetters.PutAsync(new DeadLetter(joinable.Name, "a test", [1], DateTimeOffset.UnixEpoch));

        var queues = await new BrokerInspector(await PeerAsync()).QueuesAsync();

        var shown = Assert.Single(queues, q => q.Name == joinable.Name);
        Assert.Equal((2, 3, 1), (shown.Waiting, shown.Unfinished, shown.DeadLetters));
        Assert.Equal(2, Assert.Single(queues, q => q.Name == plain.Name).Waiting);
        Assert.DoesNotContain(queues, q => q.Name == joinable.DeadLetters.Name);
        Assert.Equal(queues.Select(q => q.Name).Order(StringComparer.Ordinal), queues.Select(q => q.Name));
    }

    [Fact]
    public async Task Dead_letters_are_shown_with_their_reasons_and_stay_until_put_back_whole()
    {
        var numbers = new JoinableQueue<int>(broker: Broker);
        await numbers.PutAsync(42);
        // Read as the wrong type, the item goes to the dead letters with the reason.
        var texts = new Queue<string>(name: numbers.Name, broker: Broker);
        await Assert.ThrowsAsync<QueueEmptyException>(() => texts.GetAsync(Short).AsTask());
        var inspector = new BrokerInspector(await PeerAsync());

        var shown = Assert.Single(await inspector.PeekDeadLettersAsync(numbers.Name));
        Assert.Equal(numbers.Name, shown.Queue);
        Assert.Contains("String", shown.Reason, StringComparison.Ordinal);
        Assert.Single(await inspector.PeekDeadLettersAsync(numbers.Name));
        Assert.True(await numbers.JoinAsync(Patience), "a dead-lettered item counts as done");

        Assert.Equal(1, await inspector.RequeueDeadLettersAsync(numbers.Name));

        Assert.Empty(await inspector.PeekDeadLettersAsync(numbers.Name));
        Assert.False(await numbers.JoinAsync(Short), "a requeued item counts as unfinished again");
        Assert.Equal(42, await numbers.GetAsync(Patience));
        await numbers.TaskDoneAsync();
        Assert.True(await numbers.JoinAsync(Patience));
    }

    [Fact]
    public async Task A_purge_deletes_the_waiting_items_and_counts_them_done_for_Join()
    {
        var queue = new JoinableQueue<int>(broker: Broker);
        foreach (var i in Enumerable.Range(0, 5))
        {
            await queue.PutAsync(i);
        }
        Assert.Equal(0, await queue.GetAsync(Patience));
        var inspector = new BrokerInspector(await PeerAsync());

        Assert.Equal(4, await inspector.PurgeAsync(queue.Name));

        Assert.Equal(0, await queue.CountAsync());
        Assert.False(await queue.JoinAsync(Short), "the item taken is not done yet");
        await queue.TaskDoneAsync();
        Assert.True(await queue.JoinAsync(Patience));
        await queue.DeadLetters.PutAsync(new DeadLetter(queue.Name, "a test", [1], DateTimeOffset.UnixEpoch));
        Assert.Equal(1, await inspector.PurgeDeadLettersAsync(queue.Name));
        Assert.Empty(await inspector.PeekDeadLettersAsync(queue.Name));
    }

    [Fact]
    public async Task A_queue_that_does_not_exist_is_named_in_the_error()
    {
        var inspector = new BrokerInspector(Broker);
        var missing = Unique("missing");

        foreach (var step in new Func<Task>[]
        {
            () => inspector.PurgeAsync(missing).AsTask(),
            () => inspector.PeekDeadLettersAsync(missing).AsTask(),
            () => inspector.RequeueDeadLettersAsync(missing).AsTask(),
            () => inspector.PurgeDeadLettersAsync(missing).AsTask(),
        })
        {
            var error = await Assert.ThrowsAsync<QueueNotFoundException>(step);
            Assert.Equal(missing, error.Queue);
            Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        }
    }
}
