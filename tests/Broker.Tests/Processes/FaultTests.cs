namespace Broker.Tests.Processes;

using Broker;

/// <summary>Faults done for real: children killed with SIGKILL mid-task, a lock holder killed, a parent killed, and
/// many start/join cycles checked for zombies and leaked descriptors.</summary>
[Collection(ProcessCollection.Name)]
public sealed class FaultTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_consumer_killed_mid_task_loses_nothing_and_Join_returns()
    {
        var queue = new JoinableQueue<string>();
        var taken = new Value<int>(0);
        var done = new Queue<string>();
        await queue.PutAsync("job-1");
        await queue.PutAsync("job-2");

        await using var victim = new Process(Targets.TakeAndHang, queue, taken);
        await victim.StartAsync();
        await Eventually.TrueAsync(async () => await taken.GetAsync() == 1, "the victim to take an item");
        victim.Kill();
        await victim.JoinAsync(Patience);
        Assert.Equal(-9, victim.ExitCode);

        await using var survivor = new Process(Targets.Consume, queue, done) { Daemon = true };
        await survivor.StartAsync();
        Assert.True(await queue.JoinAsync(Patience), "Join returns once the redelivered item is done");
        var finished = new[] { await done.GetAsync(Patience), await done.GetAsync(Patience) };
        Assert.Equal(["job-1", "job-2"], finished.Order());
    }

    [Fact]
    public async Task A_lock_whose_holder_is_killed_is_freed()
    {
        var @lock = new Lock();
        var held = new Value<int>(0);
        await using var holder = new Process(Targets.HoldAndHang, @lock, held);
        await holder.StartAsync();
        await Eventually.TrueAsync(async () => await held.GetAsync() == 1, "the child to hold the lock");
        Assert.False(await @lock.AcquireAsync(TimeSpan.Zero));

        holder.Kill();

        Assert.True(await @lock.AcquireAsync(Patience));
        await @lock.ReleaseAsync();
    }

    [Fact]
    public async Task Daemon_children_end_within_a_second_of_their_parent_being_killed()
    {
        var pids = new Queue<int>();
        await using var parent = new Process(Targets.StartDaemonAndHang, pids);
        await parent.StartAsync();
        var daemonPid = await pids.GetAsync(Patience);
        Assert.True(Directory.Exists($"/proc/{daemonPid}"));

        parent.Kill();
        await parent.JoinAsync(Patience);

        await Eventually.TrueAsync(() => Task.FromResult(!IsRunning(daemonPid)), "the daemon to end", TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Two_hundred_start_join_cycles_leave_no_zombie_and_no_descriptor()
    {
        // One cycle first, so that what is opened once for all (the socket, the launcher) is not counted.
        await RunOnceAsync();
        var descriptors = OpenDescriptors();
        for (var i = 0; i < 200; i++)
        {
            await RunOnceAsync();
        }
        Assert.Empty(ZombieChildren());
        Assert.InRange(OpenDescriptors(), 0, descriptors + 5);

        static async Task RunOnceAsync()
        {
            await using var child = new Process(Targets.ExitWith, 0);
            await child.StartAsync();
            await child.JoinAsync(Patience);
            Assert.Equal(0, child.ExitCode);
        }
    }

    private static bool IsRunning(int pid) =>
        File.Exists($"/proc/{pid}/stat") && File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].Trim()[0] != 'Z';

    private static int OpenDescriptors() => Directory.GetFiles("/proc/self/fd").Length;

    private static List<int> ZombieChildren()
    {
        var zombies = new List<int>();
        foreach (var stat in Directory.GetDirectories("/proc").Select(d => Path.Combine(d, "stat")))
        {
            try
            {
                // "pid (comm) state ppid ...": the command may hold spaces, so read after its closing parenthesis.
                var fields = File.ReadAllText(stat).Split(')')[^1].Trim().Split(' ');
                if (fields[0] == "Z" && int.Parse(fields[1]) == Environment.ProcessId)
                {
                    zombies.Add(int.Parse(Path.GetFileName(Path.GetDirectoryName(stat)!)));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                // The process ended while we looked.
            }
        }
        return zombies;
    }
}

internal static class Eventually
{
    public static async Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Waited {within ?? TimeSpan.FromSeconds(30)} for {what}.");
            }
            await Task.Delay(20);
        }
    }
}
