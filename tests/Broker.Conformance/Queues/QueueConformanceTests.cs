namespace Broker.Conformance;

using System.Text;
using Broker;

/// <summary>What every transport that keeps queues keeps, written once against the public API (docs/writing-a-transport.md). Each
/// transport runs it through a subclass that says how to reach its broker.</summary>
public abstract partial class QueueConformanceTests : IAsyncLifetime
{
    protected static readonly TimeSpan Short = TimeSpan.FromMilliseconds(200);
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly List<BrokerContext> _peers = [];

    protected BrokerContext Broker { get; private set; } = null!;

    /// <summary>Opens the context the tests use.</summary>
    protected abstract Task<BrokerContext> ConnectAsync();

    public async Task InitializeAsync() => Broker = await ConnectAsync();

    public virtual async Task DisposeAsync()
    {
        foreach (var peer in _peers)
        {
            await peer.DisposeAsync();
        }
        await Broker.DisposeAsync();
    }

    /// <summary>Another client of the same broker, as a second process would be.</summary>
    protected async Task<BrokerContext> PeerAsync()
    {
        var peer = BrokerContext.Connect(await Broker.ShareAsync(CancellationToken.None));
        _peers.Add(peer);
        return peer;
    }

    protected static string Unique(string kind) => $"{kind}-{Guid.NewGuid():N}";

    [Fact]
    public async Task A_ping_makes_a_round_trip_to_a_broker_that_answers_from_either_side()
    {
        using var patience = new CancellationTokenSource(Patience);
        await Broker.PingAsync(patience.Token);
        await (await PeerAsync()).PingAsync(patience.Token);
    }

    [Fact]
    public async Task Queue_keeps_the_order_of_one_producer()
    {
        var queue = new Queue<int>(broker: Broker);
        await Range.PutAsync(queue, 100);
        await Range.GetInOrderAsync(queue, 100, Short);
    }

    [Fact]
    public async Task Items_keep_their_type_and_content()
    {
        var queue = new Queue<Order>(broker: Broker);
        var order = new Order("ß-ünïcode ✓", 3, [1.5, 2.25], null);
        await queue.PutAsync(order);
        var got = await queue.GetAsync(Short);
        Assert.Equal(order.Name, got.Name);
        Assert.Equal(order.Quantity, got.Quantity);
        Assert.Equal(order.Prices, got.Prices);
        Assert.Null(got.Note);
    }

    [Fact]
    public async Task A_queue_of_nullable_numbers_carries_null_and_a_queue_of_numbers_refuses_it()
    {
        var queue = new Queue<int?>(broker: Broker);
        await queue.PutAsync(null);
        await queue.PutAsync(5);
        Assert.Null(await queue.GetAsync(Short));
        Assert.Equal(5, await queue.GetAsync(Short));

        var numbers = new Queue<int>(broker: Broker);
        await new Queue<int?>(name: numbers.Name, broker: Broker).PutAsync(null);
        await numbers.PutAsync(7);
        Assert.Equal(7, await numbers.GetAsync(Short));
        Assert.Contains("cannot be read as System.Int32", (await numbers.DeadLetters.GetAsync(Short)).Reason);
    }

    [Fact]
    public async Task An_item_over_the_limit_fails_at_Put_naming_queue_size_and_limit_and_one_of_16_MB_arrives_whole()
    {
        var queue = new JoinableQueue<string>(broker: Broker);
        var error = await Assert.ThrowsAsync<ItemTooLargeException>(() => queue.PutAsync(new string('x', queue.MaxItemSize)).AsTask());
        Assert.Equal((queue.Name, queue.MaxItemSize + 2L, (long)queue.MaxItemSize), (error.Queue, error.Size, error.Limit));
        Assert.Contains($"'{queue.Name}'", error.Message);
        Assert.Equal(0, await queue.CountAsync());

        var item = string.Create(16_000_000, 0, static (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = (char)('a' + i % 26);
            }
        });
        await queue.PutAsync(item);
        Assert.Equal(item, await queue.GetAsync(Patience));
        await queue.TaskDoneAsync();
        Assert.True(await queue.JoinAsync(Patience));
    }

    [Fact]
    public void GetNowait_on_an_empty_queue_raises_QueueEmpty_naming_the_queue()
    {
        var queue = new Queue<string>(name: Unique("empty"), broker: Broker);
        var error = Assert.Throws<QueueEmptyException>(() => queue.GetNowait());
        Assert.Equal(queue.Name, error.Queue);
        Assert.Contains(queue.Name, error.Message);
    }

    [Fact]
    public async Task Get_with_a_timeout_waits_that_long_then_raises()
    {
        var queue = new Queue<string>(broker: Broker);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Assert.ThrowsAsync<QueueEmptyException>(() => queue.GetAsync(Short).AsTask());
        Assert.InRange(clock.Elapsed, Short * 0.9, Patience);
    }

    [Fact]
    public async Task A_blocked_get_wakes_when_an_item_is_put()
    {
        var queue = new Queue<string>(broker: Broker);
        var getting = queue.GetAsync(Patience).AsTask();
        await Task.Delay(50);
        Assert.False(getting.IsCompleted);
        var producer = new Queue<string>(name: queue.Name, broker: await PeerAsync());
        await producer.PutAsync("wake");
        Assert.Equal("wake", await getting);
    }

    [Fact]
    public async Task Maxsize_is_enforced_by_the_broker()
    {
        var queue = new Queue<int>(maxsize: 2, broker: Broker);
        await queue.PutAsync(1);
        queue.PutNowait(2);
        Assert.True(queue.Full());
        var error = Assert.Throws<QueueFullException>(() => queue.PutNowait(3));
        Assert.Equal(queue.Name, error.Queue);
        // Another client sees the same limit: it is the broker's, not this handle's.
        var peer = new Queue<int>(maxsize: 2, name: queue.Name, broker: await PeerAsync());
        await Assert.ThrowsAsync<QueueFullException>(() => peer.PutAsync(3, Short).AsTask());
    }

    [Fact]
    public async Task A_handle_asking_for_another_maxsize_than_the_queue_has_raises_QueueMaxSizeConflict_and_the_queue_goes_on()
    {
        var queue = new Queue<int>(maxsize: 2, broker: Broker);
        await queue.PutAsync(1);
        // Through another client: the conflict crosses to it with its type.
        var other = new Queue<int>(maxsize: 3, name: queue.Name, broker: await PeerAsync());
        var error = await Assert.ThrowsAsync<QueueMaxSizeConflictException>(() => other.PutAsync(2).AsTask());
        Assert.Equal(queue.Name, error.Queue);
        Assert.Equal(3, error.RequestedMaxSize);
        Assert.Equal(1, await queue.GetAsync(Short));
    }

    [Fact]
    public async Task A_put_on_a_full_queue_waits_for_room()
    {
        var queue = new Queue<int>(maxsize: 1, broker: Broker);
        await queue.PutAsync(1);
        var putting = queue.PutAsync(2, Patience).AsTask();
        await Task.Delay(50);
        Assert.False(putting.IsCompleted);
        Assert.Equal(1, await queue.GetAsync(Short));
        await putting;
        Assert.Equal(2, await queue.GetAsync(Short));
    }

    [Fact]
    public async Task Puts_made_at_once_on_a_bounded_queue_fill_it_and_the_rest_wait_for_room_without_one_lost()
    {
        // A transport may send puts made at once together: those that do not fit must wait, not vanish or overfill.
        var queue = new Queue<int>(maxsize: 3, broker: Broker);
        var putting = Enumerable.Range(0, 10).Select(i => queue.PutAsync(i, Patience).AsTask()).ToList();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (putting.Count(put => put.IsCompleted) < 3)
        {
            Assert.True(clock.Elapsed < Patience, "The first puts never went in.");
            await Task.Delay(20);
        }
        await Task.Delay(Short);
        Assert.Equal(3, putting.Count(put => put.IsCompletedSuccessfully));
        Assert.Equal(3, await queue.CountAsync());

        var got = new List<int>();
        for (var i = 0; i < 10; i++)
        {
            got.Add(await queue.GetAsync(Patience));
        }
        await Task.WhenAll(putting);
        Assert.Equal(Enumerable.Range(0, 10), got.Order());
        Assert.True(queue.Empty());
    }

    [Fact]
    public async Task Items_put_together_arrive_in_their_order_and_each_counts_for_Join()
    {
        // A pool puts a map's shares together, so that a worker finds the next share in as soon as it takes one.
        var queue = new JoinableQueue<int>(broker: Broker);
        await queue.PutAllAsync([.. Enumerable.Range(0, 10)], CancellationToken.None);
        var peer = new JoinableQueue<int>(name: queue.Name, broker: await PeerAsync());
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(i, await peer.GetAsync(Patience));
        }
        Assert.False(await queue.JoinAsync(Short));
        for (var i = 0; i < 10; i++)
        {
            await peer.TaskDoneAsync();
        }
        Assert.True(await queue.JoinAsync(Patience));
    }

    [Fact]
    public async Task Items_put_together_on_a_bounded_queue_fill_it_and_the_rest_wait_for_room_in_their_order()
    {
        var queue = new JoinableQueue<int>(maxsize: 2, broker: Broker);
        var putting = queue.PutAllAsync([.. Enumerable.Range(0, 5)], CancellationToken.None).AsTask();
        await Task.Delay(Short);
        Assert.False(putting.IsCompleted);
        var got = new List<int>();
        for (var i = 0; i < 5; i++)
        {
            got.Add(await queue.GetAsync(Patience));
            await queue.TaskDoneAsync();
        }
        await putting.WaitAsync(Patience);
        Assert.Equal(Enumerable.Range(0, 5), got);
        Assert.True(await queue.JoinAsync(Patience));
    }

    [Fact]
    public async Task TaskDone_called_many_times_at_once_counts_each_item_once()
    {
        // A transport may send marks made at once together: Join must still count every one, and only those.
        var queue = new JoinableQueue<int>(broker: Broker);
        await Range.PutAsync(queue, 20);
        for (var i = 0; i < 20; i++)
        {
            await queue.GetAsync(Patience);
        }
        await Task.WhenAll(Enumerable.Range(0, 19).Select(_ => queue.TaskDoneAsync().AsTask()));
        Assert.False(await queue.JoinAsync(Short));
        await queue.TaskDoneAsync();
        Assert.True(await queue.JoinAsync(Patience));
    }

    [Fact]
    public async Task A_bounded_JoinableQueue_counts_waiting_items_against_its_maxsize_and_Join_counts_every_item()
    {
        var queue = new JoinableQueue<int>(maxsize: 2, broker: Broker);
        var peer = new JoinableQueue<int>(maxsize: 2, name: queue.Name, broker: await PeerAsync());
        await queue.PutAsync(1);
        await peer.PutAsync(2);
        await Assert.ThrowsAsync<QueueFullException>(() => peer.PutAsync(3, Short).AsTask());
        Assert.Equal(1, await peer.GetAsync(Short)); // taken, not done: no longer waiting, still unfinished
        await queue.PutAsync(3, Short);
        Assert.False(await queue.JoinAsync(Short));
        await peer.TaskDoneAsync();
        for (var i = 0; i < 2; i++)
        {
            await queue.GetAsync(Short);
            await queue.TaskDoneAsync();
        }
        Assert.True(await queue.JoinAsync(Short));
    }

    [Fact]
    public async Task QSize_and_Empty_count_waiting_items()
    {
        var queue = new Queue<int>(broker: Broker);
        Assert.True(queue.Empty());
        await queue.PutAsync(1);
        await queue.PutAsync(2);
        Assert.Equal(2, queue.QSize());
        Assert.False(queue.Empty());
        Assert.False(queue.Full());
    }

    [Fact]
    public async Task Join_returns_when_every_item_is_done()
    {
        var queue = new JoinableQueue<int>(broker: Broker);
        await queue.PutAsync(1);
        await queue.PutAsync(2);
        Assert.False(await queue.JoinAsync(Short));
        await queue.GetAsync(Short);
        await queue.GetAsync(Short);
        await queue.TaskDoneAsync();
        Assert.False(await queue.JoinAsync(Short));
        var joining = queue.JoinAsync(Patience).AsTask();
        await queue.TaskDoneAsync();
        Assert.True(await joining);
    }

    [Fact]
    public async Task TaskDone_called_more_often_than_items_were_taken_raises()
    {
        var queue = new JoinableQueue<int>(broker: Broker);
        await queue.PutAsync(1);
        await queue.GetAsync(Short);
        await queue.TaskDoneAsync();
        var error = Assert.Throws<InvalidOperationException>(() => queue.TaskDone());
        Assert.Contains(queue.Name, error.Message);
    }

    [Fact]
    public async Task An_item_taken_by_a_client_that_ends_is_delivered_again_and_Join_waits_for_it()
    {
        var queue = new JoinableQueue<string>(broker: Broker);
        await queue.PutAsync("precious");
        var doomed = await PeerAsync();
        var consumer = new JoinableQueue<string>(name: queue.Name, broker: doomed);
        var (item, delivery) = await consumer.TakeOwnAsync();
        Assert.Equal(("precious", 1), (item, delivery.Attempt));
        Assert.False(await queue.JoinAsync(Short));

        await doomed.DisposeAsync();

        (item, delivery) = await queue.TakeOwnAsync().AsTask().WaitAsync(Patience);
        Assert.Equal(("precious", 2), (item, delivery.Attempt));
        await delivery.DoneAsync(CancellationToken.None);
        Assert.True(await queue.JoinAsync(Short));
    }

    [Fact]
    public async Task Items_waiting_for_one_consumer_go_to_another_that_asks_and_each_is_taken_once()
    {
        var queue = new Queue<int>(broker: Broker);
        await Range.PutAsync(queue, 10);
        var first = new Queue<int>(name: queue.Name, broker: await PeerAsync());
        var second = new Queue<int>(name: queue.Name, broker: await PeerAsync());
        Assert.Equal(0, await first.GetAsync(Short));
        Assert.Equal(9, await queue.CountAsync());
        // A transport may hand a consumer items ahead of its next gets; another consumer still finds every one at once.
        var taken = Enumerable.Range(0, 9).Select(_ => second.GetNowait()).ToList();
        Assert.Equal(Enumerable.Range(1, 9), taken.Order());
        Assert.Throws<QueueEmptyException>(() => first.GetNowait());
        Assert.True(queue.Empty());
    }

    [Fact]
    public async Task Items_a_consumer_took_count_as_gone_for_it_and_stay_gone_after_it_ends()
    {
        var queue = new Queue<int>(broker: Broker);
        await Range.PutAsync(queue, 6);
        var consumer = await PeerAsync();
        var mine = new Queue<int>(name: queue.Name, broker: consumer);
        var taken = new[] { await mine.GetAsync(Short), await mine.GetAsync(Short) };
        Assert.Equal(4, await mine.CountAsync());
        taken = [.. taken, await mine.GetAsync(Short)];
        Assert.Equal([0, 1, 2], taken);

        await consumer.DisposeAsync();

        Assert.Equal(3, await queue.CountAsync());
        Assert.Equal([3, 4, 5], new[] { queue.GetNowait(), queue.GetNowait(), queue.GetNowait() });
        Assert.True(queue.Empty());
    }

    [Fact]
    public async Task Items_waiting_for_a_consumer_that_ends_go_back_undelivered_and_its_taken_item_counts_an_attempt()
    {
        var queue = new JoinableQueue<int>(broker: Broker);
        await Range.PutAsync(queue, 5);
        var doomed = await PeerAsync();
        var (first, firstDelivery) = await new JoinableQueue<int>(name: queue.Name, broker: doomed).TakeOwnAsync().AsTask().WaitAsync(Patience);
        Assert.Equal((0, 1), (first, firstDelivery.Attempt));

        await doomed.DisposeAsync();

        var attempts = new Dictionary<int, int>();
        for (var i = 0; i < 5; i++)
        {
            var (item, delivery) = await queue.TakeOwnAsync().AsTask().WaitAsync(Patience);
            attempts[item] = delivery.Attempt;
            await delivery.DoneAsync(CancellationToken.None);
        }
        Assert.Equal(new Dictionary<int, int> { [0] = 2, [1] = 1, [2] = 1, [3] = 1, [4] = 1 }, attempts);
        Assert.True(await queue.JoinAsync(Short));
    }

    [Fact]
    public async Task Cancelling_a_blocked_get_raises_and_loses_nothing()
    {
        var queue = new Queue<int>(broker: Broker);
        using var cancel = new CancellationTokenSource(Short);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queue.GetAsync(null, cancel.Token).AsTask());
        await queue.PutAsync(7);
        Assert.Equal(7, await queue.GetAsync(Short));
    }

    [Fact]
    public async Task An_unreadable_item_goes_to_the_dead_letters_with_the_reason_and_the_consumer_goes_on()
    {
        var name = Unique("orders");
        var writer = new Queue<string>(name: name, broker: Broker);
        var reader = new JoinableQueue<Order>(name: name, broker: Broker);
        await writer.PutAsync("not an order");
        await new Queue<Order>(name: name, broker: Broker).PutAsync(new Order("fine", 1, [], null));

        Assert.Equal("fine", (await reader.GetAsync(Short)).Name);
        await reader.TaskDoneAsync();
        Assert.True(await reader.JoinAsync(Short));

        var letter = await reader.DeadLetters.GetAsync(Short);
        Assert.Equal(name, letter.Queue);
        Assert.Contains(typeof(Order).Name, letter.Reason);
        Assert.Equal("\"not an order\"", Encoding.UTF8.GetString(letter.Body));
    }

    [Fact]
    public async Task An_item_that_cannot_be_serialized_fails_at_put_with_the_reason()
    {
        var queue = new Queue<object>(broker: Broker);
        var error = await Assert.ThrowsAsync<BrokerSerializationException>(() => queue.PutAsync(new Action(() => { })).AsTask());
        Assert.Contains(queue.Name, error.Message);
        Assert.True(queue.Empty());
    }

    [Fact]
    public void A_name_the_transports_cannot_use_is_refused_with_the_rule()
    {
        var error = Assert.Throws<ArgumentException>(() => new Queue<int>(name: "no spaces/here", broker: Broker));
        Assert.Contains("no spaces/here", error.Message);
        Assert.Contains("letters, digits", error.Message);
        Assert.Throws<ArgumentException>(() => new Lock(name: "", broker: Broker));
        Assert.Throws<ArgumentException>(() => new Value<int>(name: new string('x', 201), broker: Broker));
    }

    /// <summary>A handle sent as an item names an object that exists on the broker, with its maxsize, before the
    /// client that made the handle used it: a peer that gets it can use it at once.</summary>
    [Fact]
    public async Task A_queue_sent_as_an_item_exists_with_its_maxsize_before_its_maker_used_it()
    {
        var unused = new Queue<int>(maxsize: 1, broker: Broker);
        var mailbox = new Queue<Queue<int>>(broker: Broker);
        await mailbox.PutAsync(unused);
        var received = await new Queue<Queue<int>>(name: mailbox.Name, broker: await PeerAsync()).GetAsync(Patience);
        Assert.Equal(unused.Name, received.Name);
        await received.PutAsync(1, Short);
        await Assert.ThrowsAsync<QueueFullException>(() => received.PutAsync(2, Short).AsTask());
        Assert.Equal(1, await unused.GetAsync(Short));
    }

    public sealed record Order(string Name, int Quantity, double[] Prices, string? Note);
}
