namespace Broker.Conformance;

using Broker;

/// <summary>A <c>[PoolTask]</c> whose last parameter is a <see cref="CancellationToken"/> gets one from its worker,
/// which fires when the caller cancels the call or the pool terminates, wherever the worker runs.</summary>
public abstract partial class TransportPoolTests
{
    [Fact]
    public async Task A_tasks_token_fires_in_its_worker_when_the_caller_cancels_the_call()
    {
        await using var pool = new Pool(1, broker: Broker);
        var reports = new Queue<string>(broker: Broker);
        using var cancel = new CancellationTokenSource();
        var waiting = pool.ApplyAsync<bool>(Tasks.ReportCancellation, [reports], cancellationToken: cancel.Token);
        Assert.Equal("started", await reports.GetAsync(Patience));
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.Task.WaitAsync(Patience));
        Assert.Equal("cancelled", await reports.GetAsync(Patience));

        // The token is the task's own: the next tasks run with theirs, unfired, and take their arguments without it.
        Assert.Equal("5 False", await pool.ApplyAsync<string>(Tasks.AddUncancelled, [2, 3]).Task.WaitAsync(Patience));
        Assert.Equal(["3 False", "7 False"], await pool.StarmapAsync<string>(Tasks.AddUncancelled, [[1, 2], [3, 4]]).Task.WaitAsync(Patience));
        Assert.Throws<ArgumentException>(() => pool.ApplyAsync<string>(Tasks.AddUncancelled, [2, 3, CancellationToken.None]));
    }

    [Fact]
    public async Task A_tasks_token_fires_in_a_worker_hosts_worker_when_its_client_pool_terminates()
    {
        var name = $"cancelled-{Guid.NewGuid():N}";
        using var stop = new CancellationTokenSource();
        var serving = Pool.ServeAsync(name, 1, broker: Broker, cancellationToken: stop.Token);
        var reports = new Queue<string>(broker: Broker);
        await using (var client = new Pool(0, name: name, broker: Broker))
        {
            var waiting = client.ApplyAsync<bool>(Tasks.ReportCancellation, [reports]);
            Assert.Equal("started", await reports.GetAsync(Patience));
            await client.TerminateAsync();
            await Assert.ThrowsAnyAsync<BrokerException>(() => waiting.Task.WaitAsync(Patience));
            Assert.Equal("cancelled", await reports.GetAsync(Patience));
        }
        await stop.CancelAsync();
        await serving.WaitAsync(Patience);
    }
}
