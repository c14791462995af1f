namespace Broker.Conformance;

using Broker;

/// <summary>The semantics of CPython's <c>_TestPool</c> that the first port found missing, run on every transport.</summary>
public abstract partial class TransportPoolTests
{
    /// <summary>test_imap_handle_iterable_exception: a source that fails at item 3 yields the results before it, then
    /// raises what it raised.</summary>
    [Fact]
    public async Task Imap_over_a_source_that_throws_yields_the_results_before_then_raises()
    {
        await using var pool = new Pool(2, broker: Broker);
        foreach (var unordered in new[] { false, true })
        {
            var results = new List<int>();
            var error = Assert.Throws<SayWhenException>(() =>
            {
                foreach (var result in unordered ? pool.ImapUnordered(Tasks.Square, SayWhen(3)) : pool.Imap(Tasks.Square, SayWhen(3)))
                {
                    results.Add(result);
                }
            });
            Assert.Equal("item 3", error.Message);
            Assert.Equal([0, 1, 4], unordered ? results.Order() : results);
        }
    }

    /// <summary>Imap reads its source as its results are read: an endless source works, and a few chunks at most
    /// are out when the reader stops.</summary>
    [Fact]
    public async Task Imap_reads_an_endless_source_as_its_results_are_read()
    {
        await using var pool = new Pool(2, broker: Broker);
        var read = 0;
        IEnumerable<int> Endless()
        {
            for (var i = 0; ; i++)
            {
                read++;
                yield return i;
            }
        }
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i * i), pool.Imap(Tasks.Square, Endless()).Take(10));
        Assert.InRange(read, 10, 10 + pool.Processes * 2 + 1);
        pool.Close();
        await pool.JoinAsync().AsTask().WaitAsync(Patience);
    }

    /// <summary>An Imap begun before Close still runs to its end, and Join waits for it.</summary>
    [Fact]
    public async Task An_imap_begun_before_Close_runs_to_its_end_and_Join_waits_for_it()
    {
        await using var pool = new Pool(2, broker: Broker);
        using var results = pool.Imap(Tasks.Square, Enumerable.Range(0, 20)).GetEnumerator();
        Assert.True(results.MoveNext());
        pool.Close();
        var joining = pool.JoinAsync().AsTask();
        var rest = new List<int> { results.Current };
        while (results.MoveNext())
        {
            rest.Add(results.Current);
        }
        Assert.Equal(Enumerable.Range(0, 20).Select(i => i * i), rest);
        await joining.WaitAsync(Patience);
    }

    /// <summary>test_context: after <c>with Pool() as p:</c> (which terminates), <c>p.join()</c> returns.</summary>
    [Fact]
    public async Task Join_after_the_pools_using_ends_returns()
    {
        var pool = new Pool(2, broker: Broker);
        await using (pool)
        {
            Assert.Equal(4, pool.Apply<int>(Tasks.Square, 2));
        }
        pool.Join();
        await pool.JoinAsync();
    }

    /// <summary>test_async's callbacks: a callback has run by the time Get or Wait returns.</summary>
    [Fact]
    public async Task A_callback_has_run_when_the_result_is_ready()
    {
        await using var pool = new Pool(2, broker: Broker);
        for (var i = 0; i < 20; i++)
        {
            var called = 0;
            var result = pool.ApplyAsync<int>(Tasks.Square, [i], callback: _ => called = 1);
            Assert.Equal(i * i, result.Get(Patience));
            Assert.Equal(1, called);

            var failed = 0;
            var failing = pool.ApplyAsync<int>(Tasks.Fail, ["no"], errorCallback: _ => failed = 1);
            Assert.True(failing.Wait(Patience));
            Assert.Equal(1, failed);
        }
    }

    /// <summary>_TestPoolWorkerLifetime.test_pool_worker_lifetime_early_close: closing a pool whose workers each run
    /// one task, before its tasks are done, then joining it, neither hangs nor loses a result.</summary>
    [Fact]
    public async Task Closing_a_pool_of_one_task_workers_early_then_joining_it_keeps_every_result()
    {
        await using var pool = new Pool(3, maxTasksPerChild: 1, broker: Broker);
        var results = Enumerable.Range(0, 6).Select(i => pool.ApplyAsync<int>(Tasks.Square, [i])).ToList();
        pool.Close();
        await pool.JoinAsync().AsTask().WaitAsync(Patience);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => i * i), results.Select(result => result.Get(TimeSpan.Zero)));
    }

    /// <summary>test_make_pool: a pool of no or negative processes is refused.</summary>
    [Fact]
    public void A_pool_of_no_or_negative_processes_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new Pool(0, broker: Broker));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Pool(-1, broker: Broker));
    }

    /// <summary>test_empty_iterable: every map of nothing gives nothing.</summary>
    [Fact]
    public async Task Every_map_of_nothing_gives_nothing()
    {
        await using var pool = new Pool(2, broker: Broker);
        Assert.Empty(pool.Map(Tasks.Square, Array.Empty<int>()));
        Assert.Empty(pool.Imap(Tasks.Square, Array.Empty<int>()));
        Assert.Empty(pool.ImapUnordered(Tasks.Square, Array.Empty<int>()));
        Assert.Empty(pool.Starmap<int>(Tasks.Add, []));
        Assert.Empty(await pool.MapAsync(Tasks.Square, Array.Empty<int>()));
    }

    /// <summary>test_async_timeout: a result not ready within get's timeout raises, and the pool can still be ended.</summary>
    [Fact]
    public async Task Get_with_a_timeout_raises_when_the_task_is_still_running()
    {
        await using var pool = new Pool(1, broker: Broker);
        var result = pool.ApplyAsync<int>(Tasks.Hang, [0]);
        Assert.Throws<TimeoutException>(() => result.Get(TimeSpan.FromMilliseconds(200)));
        Assert.False(result.Ready());
        pool.Terminate();
        Assert.Throws<RemoteTaskException>(() => result.Get(Patience));
    }

    private static IEnumerable<int> SayWhen(int at)
    {
        for (var i = 0; ; i++)
        {
            if (i == at)
            {
                throw new SayWhenException($"item {at}");
            }
            yield return i;
        }
    }

    private sealed class SayWhenException(string message) : Exception(message);
}
