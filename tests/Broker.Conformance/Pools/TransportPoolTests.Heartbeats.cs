namespace Broker.Conformance;

using Broker;
using Broker.Pools;

/// <summary>What an operator sees of the pools that run worker processes, through <see cref="BrokerInspector.WorkersAsync"/>.</summary>
public abstract partial class TransportPoolTests
{
    [Fact]
    public async Task A_pool_with_workers_publishes_a_heartbeat_with_its_tasks_done_until_it_ends()
    {
        var name = $"beating-{Guid.NewGuid():N}";
        var inspector = new BrokerInspector(Broker);
        PoolHostStatus? Shown(IReadOnlyList<PoolHostStatus> hosts) => hosts.SingleOrDefault(h => h.Pool == name);

        await using (var pool = new Pool(2, name: name, broker: Broker))
        {
            var started = Shown(await inspector.WorkersAsync());
            Assert.NotNull(started);
            Assert.Equal((Environment.MachineName, Environment.ProcessId, true), (started.Machine, started.Pid, started.Alive));
            Assert.InRange(started.Processes, 0, 2);

            Assert.Equal(10, (await pool.MapAsync(Tasks.Square, Enumerable.Range(1, 10), chunksize: 1)).Count);
            // Workers add their tasks every 5 s, and the pool publishes the sum with its next heartbeat.
            await Eventually.TrueAsync(async () => Shown(await inspector.WorkersAsync()) is { TasksDone: 10, Processes: 2 },
                "the heartbeat to count the 10 tasks and 2 workers", TimeSpan.FromSeconds(20));
        }

        Assert.Null(Shown(await inspector.WorkersAsync()));
    }
}
