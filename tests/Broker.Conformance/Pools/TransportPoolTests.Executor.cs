namespace Broker.Conformance;

using Broker;

/// <summary>concurrent.futures.ProcessPoolExecutor's behaviour, on every transport.</summary>
public abstract partial class TransportPoolTests
{
    [Fact]
    public async Task An_executor_answers_each_submitted_call_and_maps_in_the_items_order()
    {
        await using var executor = await ProcessPoolExecutor.StartAsync(2, broker: Broker);
        Assert.Equal(2, executor.MaxWorkers);
        Assert.Equal(5, await executor.Submit<int>(Tasks.Add, 2, 3));
        Assert.Equal("hi", await executor.Submit<string>(Tasks.Echo, "hi"));
        var failed = await Assert.ThrowsAsync<RemoteTaskException>(() => executor.Submit<int>(Tasks.Fail, "boom"));
        Assert.Equal("boom", failed.RemoteMessage);

        var expected = Enumerable.Range(1, 10).Select(x => x * x).ToList();
        Assert.Equal(expected, executor.Map(Tasks.Square, Enumerable.Range(1, 10), chunksize: 3));
        var streamed = new List<int>();
        await foreach (var square in executor.MapAsync(Tasks.Square, Enumerable.Range(1, 10)))
        {
            streamed.Add(square);
        }
        Assert.Equal(expected, streamed);
        Assert.Empty(executor.Map(Tasks.Square, Array.Empty<int>()));
    }

    [Fact]
    public async Task An_executor_refuses_a_call_that_cannot_travel_at_Submit_and_every_call_after_Shutdown()
    {
        var executor = new ProcessPoolExecutor(1, broker: Broker);
        var unmarked = Assert.Throws<ArgumentException>(() => { _ = executor.Submit<int>(Tasks.NotMarked, 1); });
        Assert.Contains("[PoolTask]", unmarked.Message);
        var unserializable = Assert.Throws<BrokerSerializationException>(() => { _ = executor.Submit<string>(Tasks.Describe, new Action(() => { })); });
        Assert.StartsWith("Argument 0 ('value') of Describe", unserializable.Message);
        Assert.Throws<ArgumentException>(() => executor.Map(Tasks.NotMarked, [1]));

        var square = executor.Submit<int>(Tasks.Square, 3);
        executor.Shutdown();
        Assert.True(square.IsCompletedSuccessfully, "Shutdown waits for the calls submitted");
        Assert.Equal(9, await square);
        var refused = Assert.Throws<InvalidOperationException>(() => { _ = executor.Submit<int>(Tasks.Square, 3); });
        Assert.Contains("shut down", refused.Message);
        executor.Shutdown();
        await executor.DisposeAsync();
    }

    /// <summary>As in Python, the worker count plus one calls are out to the workers; the rest wait in the executor,
    /// where a shutdown that cancels futures cancels them.</summary>
    [Fact]
    public async Task Shutdown_with_cancelFutures_cancels_the_calls_still_waiting_and_the_calls_out_finish()
    {
        var go = new Event(broker: Broker);
        var executor = await ProcessPoolExecutor.StartAsync(1, broker: Broker);
        var calls = Enumerable.Range(0, 6).Select(x => executor.Submit<int>(Tasks.SquareWhenSet, go, x)).ToList();
        await executor.ShutdownAsync(wait: false, cancelFutures: true);
        Assert.All(calls.Skip(2), call => Assert.True(call.IsCanceled));
        Assert.False(calls[0].IsCompleted);
        await go.SetAsync();
        await executor.ShutdownAsync().AsTask().WaitAsync(Patience);
        var finished = await System.Threading.Tasks.Task.WhenAll(calls.Take(2));
        Assert.Equal([0, 1], finished);
    }

    [Fact]
    public async Task A_map_raises_TimeoutException_where_a_result_is_not_in_within_its_timeout_of_the_call()
    {
        await using var executor = await ProcessPoolExecutor.StartAsync(1, broker: Broker);
        var (set, unset) = (new Event(broker: Broker), new Event(broker: Broker));
        await set.SetAsync();
        using var results = executor.Map(Tasks.NameOnceSet, [set.Name, unset.Name], timeout: TimeSpan.FromSeconds(3)).GetEnumerator();
        Assert.True(results.MoveNext());
        Assert.Equal(set.Name, results.Current);
        Assert.Throws<TimeoutException>(() => results.MoveNext());
        await unset.SetAsync();
    }

    /// <summary>The tutorial that shares a Manager's queue between pool tasks, and a dictionary and list that tasks in
    /// two workers update at once, losing nothing.</summary>
    [Fact]
    public async Task A_managers_objects_pass_to_pool_tasks_and_tasks_in_every_worker_update_them_atomically()
    {
        await using var manager = new Manager(Broker);
        var queue = manager.Queue<string>();
        var seen = manager.Dict<string, int>();
        await using var pool = await Pool.StartAsync(2, broker: Broker);
        var writer = pool.ApplyAsync<int>(Tasks.WriteGreetings, [queue, 3]);
        var reader = pool.ApplyAsync<int>(Tasks.CountGreetings, [queue, seen, 3]);
        Assert.Equal(3, await writer.Task.WaitAsync(Patience));
        Assert.Equal(3, await reader.Task.WaitAsync(Patience));
        Assert.Equal(3, seen["hello"]);

        var tally = manager.Dict<string, int>();
        var items = manager.List<int>();
        var totals = await pool.StarmapAsync<int>(Tasks.Tally, Enumerable.Range(0, 40).Select(i => new object?[] { tally, items, i }), chunksize: 1)
            .Task.WaitAsync(Patience);
        Assert.Equal(40, tally["total"]);
        Assert.Equal(Enumerable.Range(1, 40), totals.Order());
        Assert.Equal(Enumerable.Range(0, 40), items.ToArray().Order());
    }
}
