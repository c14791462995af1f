namespace Broker.Conformance;

using Broker;
using Broker.Pools;

/// <summary>multiprocessing.Pool's behaviour, written once, with real worker processes on each transport.</summary>
public abstract partial class TransportPoolTests : TransportTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task StartAsync_starts_the_workers_without_blocking_and_DisposeAsync_ends_them()
    {
        var pool = await Pool.StartAsync(2, broker: Broker);
        Assert.Equal([1, 4, 9], await pool.MapAsync(Tasks.Square, [1, 2, 3]));
        var pids = (await pool.MapAsync(Tasks.Pid, Enumerable.Range(0, 20), chunksize: 1)).Distinct().ToList();
        await pool.DisposeAsync();
        Assert.All(pids, pid => Assert.False(Runs(pid), $"worker {pid} still runs"));

        static bool Runs(int pid)
        {
            try
            {
                return File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].TrimStart()[0] != 'Z';
            }
            catch (IOException)
            {
                return false;
            }
        }
    }

    [Fact]
    public async Task Map_keeps_the_order_of_the_items_whatever_the_chunk_size()
    {
        await using var pool = new Pool(2, broker: Broker);
        var expected = new[] { 1, 4, 9, 16, 25, 36, 49, 64, 81, 100 };
        Assert.Equal(expected, pool.Map(Tasks.Square, Enumerable.Range(1, 10), chunksize: 1));
        Assert.Equal(expected, pool.Map(Tasks.Square, Enumerable.Range(1, 10)));
        Assert.Equal(expected, await pool.MapAsync(Tasks.Square, Enumerable.Range(1, 10), chunksize: 3));
        Assert.Empty(pool.Map(Tasks.Square, Array.Empty<int>()));
    }

    [Fact]
    public async Task Map_takes_items_of_a_type_derived_from_the_parameter()
    {
        await using var pool = new Pool(2, broker: Broker);
        Assert.Equal(["a", "b", "c"], pool.Map<string, string>(Tasks.Describe, ["a", "b", "c"]));
    }

    [Fact]
    public async Task A_map_runs_its_chunks_in_Pythons_order_so_neighbours_run_side_by_side()
    {
        await using var pool = new Pool(2, broker: Broker);
        var started = new Array<int>(6, broker: Broker);
        // Each item waits (10 s at most) until its neighbour, the first with the second and so on, has started: a pool
        // that ran the first beside the fourth would leave both waiting.
        var items = Enumerable.Range(0, 6).Select(index => new object?[] { started, index });
        var pids = await pool.StarmapAsync<int>(Tasks.PidOnceItsNeighbourStarted, items, chunksize: 1).Task.WaitAsync(Patience);
        Assert.Equal(2, pids.Distinct().Count());
    }

    [Fact]
    public async Task A_map_too_large_for_one_message_goes_in_several_and_answers_every_item_in_order()
    {
        await using var pool = new Pool(2, broker: Broker);
        var items = Enumerable.Range(0, 40).Select(i => new string((char)('a' + i % 26), 64 * 1024)).ToList();
        Assert.Equal(items, await pool.MapAsync<string, string>(Tasks.Describe, items).Task.WaitAsync(Patience));
    }

    [Fact]
    public async Task Apply_and_ApplyAsync_return_results_and_call_back()
    {
        await using var pool = new Pool(2, broker: Broker);
        Assert.Equal(5, pool.Apply<int>(Tasks.Add, 2, 3));
        var called = new TaskCompletionSource<string>();
        var result = pool.ApplyAsync<string>(Tasks.Echo, ["hi"], callback: called.SetResult);
        Assert.Equal("hi", await result);
        Assert.Equal("hi", await called.Task.WaitAsync(Patience));
        Assert.True(result.Ready());
        Assert.True(result.Successful());
    }

    [Fact]
    public async Task A_null_result_completes_its_call()
    {
        await using var pool = new Pool(1, broker: Broker);
        Assert.Null(pool.Apply<string?>(Tasks.Nothing, 0));
        Assert.Equal([null, null], pool.Map(Tasks.Nothing, [1, 2]));
    }

    [Fact]
    public async Task Arguments_and_results_that_cannot_travel_fail_with_a_typed_exception_that_names_them()
    {
        await using var pool = new Pool(1, broker: Broker);
        var argument = Assert.Throws<BrokerSerializationException>(() => pool.ApplyAsync<string>(Tasks.Describe, [new Action(() => { })]));
        Assert.StartsWith("Argument 0 ('value') of Describe of type System.Action cannot be serialized", argument.Message);
        var count = Assert.Throws<ArgumentException>(() => pool.Starmap<int>(Tasks.Add, [[1, 2], [3]]));
        Assert.Contains("Add takes 2 argument(s), but 1 were given", count.Message);

        var item = Assert.Throws<BrokerSerializationException>(() => pool.Map<object, string>(Tasks.Describe, [1, new Action(() => { })]));
        Assert.StartsWith("Argument 0 ('value') of Describe of type System.Action cannot be serialized", item.Message);
        var notOne = Assert.Throws<ArgumentException>(() => pool.Map<int, int>(_ => Tasks.Add(1, 2), [1]));
        Assert.Contains("[PoolTask]", notOne.Message);

        var result = Assert.Throws<BrokerSerializationException>(() => pool.Apply<int>(Tasks.Echo, "not a number"));
        Assert.StartsWith("The result of Echo cannot be read as System.Int32", result.Message);
        var unwritable = Assert.Throws<RemoteTaskException>(() => pool.Apply<object>(Tasks.Unserializable));
        Assert.Contains("The result of Unserializable of type System.Action cannot be serialized", unwritable.Message);
        var unwritableItem = Assert.Throws<RemoteTaskException>(() => pool.Map(Tasks.UnserializableAtZero, [1, 0]));
        Assert.Contains("The result of UnserializableAtZero of type System.Action cannot be serialized", unwritableItem.Message);
        Assert.Equal(9, pool.Apply<int>(Tasks.Square, 3));
    }

    [Fact]
    public async Task A_task_exception_reaches_the_caller_with_the_remote_type_message_and_stack()
    {
        await using var pool = new Pool(1, broker: Broker);
        var failed = new TaskCompletionSource<Exception>();
        var result = pool.ApplyAsync<int>(Tasks.Fail, ["boom"], errorCallback: failed.SetResult);
        var error = Assert.Throws<RemoteTaskException>(() => result.Get(Patience));
        Assert.Equal("System.InvalidOperationException", error.RemoteType);
        Assert.Equal("boom", error.RemoteMessage);
        Assert.Contains("Tasks.Fail", error.RemoteStackTrace);
        Assert.Same(error, await failed.Task.WaitAsync(Patience));
        Assert.False(result.Successful());
        Assert.Equal(9, pool.Apply<int>(Tasks.Square, 3));
    }

    [Fact]
    public async Task Imap_yields_in_order_and_ImapUnordered_yields_everything()
    {
        await using var pool = new Pool(2, broker: Broker);
        Assert.Equal([1, 4, 9, 16, 25], pool.Imap(Tasks.Square, Enumerable.Range(1, 5)).ToList());
        Assert.Equal([1, 4, 9, 16, 25], pool.ImapUnordered(Tasks.Square, Enumerable.Range(1, 5), chunksize: 2).Order().ToList());
    }

    [Fact]
    public async Task ImapAsync_streams_in_order_and_ImapUnorderedAsync_everything_and_a_cancelled_stream_ends()
    {
        await using var pool = new Pool(2, broker: Broker);
        Assert.Equal(new[] { 1, 4, 9, 16, 25 }, await pool.ImapAsync(Tasks.Square, Enumerable.Range(1, 5)).ToListAsync());
        Assert.Equal(new[] { 1, 4, 9, 16, 25 }, (await pool.ImapUnorderedAsync(Tasks.Square, Enumerable.Range(1, 5), chunksize: 2).ToListAsync()).Order());
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in pool.ImapAsync(Tasks.Square, Enumerable.Range(1, 5), cancellationToken: cancelled.Token))
            {
            }
        });
    }

    [Fact]
    public async Task Starmap_spreads_each_argument_list()
    {
        await using var pool = new Pool(2, broker: Broker);
        Assert.Equal([3, 7, 11], pool.Starmap<int>(Tasks.Add, [[1, 2], [3, 4], [5, 6]]));
    }

    [Fact]
    public async Task A_method_not_marked_PoolTask_is_refused_at_the_call()
    {
        await using var pool = new Pool(1, broker: Broker);
        var error = Assert.Throws<ArgumentException>(() => pool.Map(Tasks.NotMarked, [1]));
        Assert.Contains("[PoolTask]", error.Message);
    }

    [Fact]
    public async Task A_worker_refuses_and_dead_letters_a_message_without_tasks_and_a_task_naming_an_unmarked_method()
    {
        var tasks = new JoinableQueue<TaskBatch>(broker: Broker);
        var replies = new Queue<ResultBatch>(broker: Broker);
        var forged = Target(nameof(Tasks.NotMarked));
        await tasks.PutAsync(new TaskBatch(null!, replies.Name));
        await tasks.PutAsync(new TaskBatch([new PoolTask(1, forged, new RawJson("[[1]]"u8.ToArray()))], replies.Name));
        var unreadable = new PoolTask(2, Target(nameof(Tasks.Square)), new RawJson("[3, \"four\"]"u8.ToArray()), OneArgumentEach: true);
        await tasks.PutAsync(new TaskBatch([unreadable], replies.Name));
        await tasks.PutAsync(TaskBatch.StopWorker);

        await using var worker = new Process(PoolWorker.Serve, tasks, 0, null) { Context = Broker };
        await worker.StartAsync();

        var reply = Assert.Single((await replies.GetAsync(Patience)).Results);
        Assert.Null(reply.Values);
        Assert.Contains("is not a [PoolTask] method", reply.Error!.Message);
        var unread = Assert.Single((await replies.GetAsync(Patience)).Results);
        Assert.StartsWith("Argument 0 ('x') of Square cannot be read as System.Int32", unread.Error!.Message);
        Assert.Contains("no list of tasks", (await tasks.DeadLetters.GetAsync(Patience)).Reason);
        var letter = await tasks.DeadLetters.GetAsync(Patience);
        Assert.Contains("NotMarked", letter.Reason);
        Assert.True(await worker.JoinAsync(Patience));
    }

    [Fact]
    public async Task A_worker_whose_reply_cannot_be_sent_ends_instead_of_holding_its_message()
    {
        var tasks = new JoinableQueue<TaskBatch>(broker: Broker);
        // The reply goes to a queue that exists bounded, and a worker's reply queue is unbounded: the put fails.
        var bounded = new Queue<int>(maxsize: 1, broker: Broker);
        await bounded.PutAsync(0);
        var chunk = Chunk.WriteArguments(Broker.Serializer, typeof(Tasks).GetMethod(nameof(Tasks.Square))!, [[3]]).Json;
        await tasks.PutAsync(new TaskBatch([new PoolTask(1, Target(nameof(Tasks.Square)), chunk)], bounded.Name));

        await using var worker = new Process(PoolWorker.Serve, tasks, 0, null) { Context = Broker };
        await worker.StartAsync();

        // It ends with the failure while its queue is empty, rather than wait there for ever with the message taken.
        Assert.True(await worker.JoinAsync(Patience));
        Assert.Equal(1, worker.ExitCode);
        Assert.Equal(1, await tasks.CountAsync());
    }

    [Fact]
    public async Task Slow_tasks_that_travel_in_one_message_still_spread_over_the_workers()
    {
        var name = $"spread-{Guid.NewGuid():N}";
        await using var pool = new Pool(2, name: name, broker: Broker);
        var replies = new Queue<ResultBatch>(broker: Broker);
        var started = new Value<int>(0, broker: Broker);
        var method = typeof(Tasks).GetMethod(nameof(Tasks.PidOnceItsPartnerStarted))!;
        var chunk = Chunk.WriteArguments(Broker.Serializer, method, [[started]]).Json;
        var tasks = Enumerable.Range(1, 6).Select(id => new PoolTask(id, Target(method.Name), chunk)).ToArray();
        await TaskQueue(name).PutAsync(new TaskBatch(tasks, replies.Name));

        var results = await Replies(replies, 6);

        // The worker that took the message gives back what it has not started after a few milliseconds, and the
        // other worker takes it, so each task meets its partner; kept together, the first would have waited in vain.
        Assert.All(results, result => Assert.Null(result.Error));
        var pids = results.Select(result => Number(result.Values!.Value)).ToList();
        Assert.Equal(2, pids.Distinct().Count());
        Assert.All(pids.GroupBy(pid => pid), ran => Assert.InRange(ran.Count(), 2, 4));
    }

    [Fact]
    public async Task A_task_that_kills_its_workers_is_given_up_alone_when_it_travelled_with_others()
    {
        var name = $"poison-{Guid.NewGuid():N}";
        await using var pool = new Pool(2, name: name, broker: Broker);
        var replies = new Queue<ResultBatch>(broker: Broker);
        PoolTask[] tasks = [Task(1, nameof(Tasks.Square), 1), Task(2, nameof(Tasks.KillOwnWorker), 0), Task(3, nameof(Tasks.Square), 3)];
        await TaskQueue(name).PutAsync(new TaskBatch(tasks, replies.Name, MaxAttempts: 2));

        var results = (await Replies(replies, 3)).ToDictionary(result => result.Id);

        Assert.True(results[1].Error is null, $"task 1 failed: {results[1].Error}");
        Assert.True(results[3].Error is null, $"task 3 failed: {results[3].Error}");
        Assert.Equal(1, Number(results[1].Values!.Value));
        Assert.Equal(9, Number(results[3].Values!.Value));
        Assert.Equal("WorkerLost", results[2].Error!.Type);
        Assert.Contains("delivered 3 times", results[2].Error!.Message);
        // A task answered just before its worker died may run again and be given up too (on the local transport a
        // mark leaves with the worker's next frame): its caller kept the first answer. The poison one is alone.
        string letter;
        do
        {
            letter = System.Text.Encoding.UTF8.GetString((await TaskQueue(name).DeadLetters.GetAsync(Patience)).Body);
        }
        while (!letter.Contains("KillOwnWorker"));
        Assert.DoesNotContain("Square", letter);
    }

    private JoinableQueue<TaskBatch> TaskQueue(string pool) => new(name: $"pool.{pool}.tasks", broker: Broker);

    private static PoolTask Task(long id, string method, int argument) =>
        new(id, Target(method), new RawJson(System.Text.Encoding.UTF8.GetBytes($"[[{argument}]]")));

    private static string Target(string method) => $"{typeof(Tasks).Assembly.GetName().Name}|{typeof(Tasks).FullName}|{method}";

    /// <summary>The first result of each of <paramref name="count"/> tasks, as a pool keeps only the first answer.</summary>
    private static async Task<List<PoolResult>> Replies(Queue<ResultBatch> replies, int count)
    {
        var results = new Dictionary<long, PoolResult>();
        while (results.Count < count)
        {
            foreach (var result in (await replies.GetAsync(Patience)).Results)
            {
                results.TryAdd(result.Id, result);
            }
        }
        return [.. results.Values];
    }

    private static int Number(RawJson values) => System.Text.Json.JsonSerializer.Deserialize<int[]>(values.Utf8.Span)!.Single();

    [Fact]
    public async Task A_worker_killed_mid_task_never_hangs_the_pool_its_task_runs_on_another()
    {
        await using var pool = new Pool(2, broker: Broker);
        var attempts = new Value<int>(0, broker: Broker);
        var firstPid = new Value<int>(0, broker: Broker);
        var result = pool.ApplyAsync<string>(Tasks.SurviveOneKill, [attempts, firstPid]);
        await Eventually.TrueAsync(async () => await firstPid.GetAsync() != 0, "the first attempt to start");

        System.Diagnostics.Process.GetProcessById(await firstPid.GetAsync()).Kill();

        Assert.Equal("done on a second worker", result.Get(Patience));
        Assert.Equal(2, await attempts.GetAsync());
        Assert.Equal(16, pool.Apply<int>(Tasks.Square, 4));
    }

    [Fact]
    public async Task A_task_that_kills_every_worker_fails_after_its_attempts_and_the_pool_goes_on()
    {
        await using var pool = new Pool(2, maxTaskAttempts: 2, broker: Broker);
        var poisoned = pool.ApplyAsync<int>(Tasks.KillOwnWorker, [0]);
        var error = Assert.Throws<RemoteTaskException>(() => poisoned.Get(Patience));
        Assert.Equal("WorkerLost", error.RemoteType);
        Assert.Contains("delivered 3 times", error.Message);
        Assert.Equal(25, pool.Apply<int>(Tasks.Square, 5));
    }

    [Fact]
    public async Task A_pipe_end_whose_task_killed_its_worker_before_using_it_reports_the_end_at_the_other()
    {
        await using var pool = new Pool(1, maxTaskAttempts: 1, broker: Broker);
        var (mine, theirs) = Pipe.Create(broker: Broker);
        var dying = pool.ApplyAsync<int>(Tasks.KillOwnWorkerHolding, [theirs]);
        await Assert.ThrowsAsync<EndOfStreamException>(() => mine.RecvAsync<int>().AsTask().WaitAsync(Patience));
        Assert.Equal("WorkerLost", Assert.Throws<RemoteTaskException>(() => dying.Get(Patience)).RemoteType);
    }

    [Fact]
    public async Task Terminate_fails_the_tasks_in_flight_and_ends_the_workers()
    {
        var pool = new Pool(1, broker: Broker);
        var hanging = pool.ApplyAsync<int>(Tasks.Hang, [0]);
        Assert.False(hanging.Wait(TimeSpan.FromMilliseconds(300)));
        pool.Terminate();
        var error = Assert.Throws<RemoteTaskException>(() => hanging.Get(Patience));
        Assert.Contains("terminated", error.Message);
        Assert.Throws<InvalidOperationException>(() => pool.Apply<int>(Tasks.Square, 1));
        await pool.DisposeAsync();
    }

    [Fact]
    public async Task MaxTasksPerChild_replaces_each_worker_after_its_tasks()
    {
        await using var pool = new Pool(2, maxTasksPerChild: 1, broker: Broker);
        var pids = pool.Map(Tasks.Pid, Enumerable.Range(0, 4), chunksize: 1);
        Assert.Equal(4, pids.Distinct().Count());
    }

    [Fact]
    public async Task The_initializer_runs_in_each_worker_before_its_tasks()
    {
        await using var pool = new Pool(1, initializer: Tasks.Initialize, initargs: ["hello"], broker: Broker);
        Assert.Equal("hello", pool.Apply<string>(Tasks.Greeting));
    }

    [Fact]
    public async Task Close_then_Join_finishes_the_queued_tasks_and_ends_the_workers()
    {
        var pool = new Pool(2, broker: Broker);
        var results = Enumerable.Range(1, 6).Select(i => pool.ApplyAsync<int>(Tasks.Square, [i])).ToList();
        pool.Close();
        Assert.Throws<InvalidOperationException>(() => pool.Apply<int>(Tasks.Square, 1));
        await pool.JoinAsync();
        Assert.All(results, r => Assert.True(r.Ready()));
        Assert.Equal([1, 4, 9, 16, 25, 36], results.Select(r => r.Get()));
        await pool.DisposeAsync();
    }
}
