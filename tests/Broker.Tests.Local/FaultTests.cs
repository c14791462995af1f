namespace Broker.Tests.Local;

using Broker;

/// <summary>The launcher's faults, done for real: a parent killed with SIGKILL, and many start/join cycles checked
/// for zombies and leaked descriptors. Transport faults are in <see cref="TransportProcessTests"/>.</summary>
[Collection(ProcessCollection.Name)]
public sealed class FaultTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

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
        await Eventually.TrueAsync(() => Task.FromResult(RuntimeFilesOf(parent.Pid!.Value).Concat(RuntimeFilesOf(daemonPid)).Count() == 0),
            "the runtime files of the killed parent and of its daemon to go");
    }

    [Fact]
    public async Task A_killed_child_leaves_no_runtime_files_behind()
    {
        var child = new Process(Targets.WaitToBeKilled);
        await child.StartAsync();
        await Eventually.TrueAsync(() => Task.FromResult(RuntimeFilesOf(child.Pid!.Value).Count() == 3), "the child's runtime to make its files");
        child.Kill();
        await child.JoinAsync(Patience);
        Assert.Equal(-9, child.ExitCode);
        await Eventually.TrueAsync(() => Task.FromResult(RuntimeFilesOf(child.Pid!.Value).Count() == 0), "the killed child's runtime files to go");
    }

    /// <summary>As a Python program is written: the handles are neither closed nor disposed, and the launcher lets
    /// go of each child's descriptors once it is reaped, not at a garbage collection.</summary>
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
            var child = new Process(Targets.ExitWith, 0);
            await child.StartAsync();
            await child.JoinAsync(Patience);
            Assert.Equal(0, child.ExitCode);
        }
    }

    /// <summary>A child holds items handed ahead, asks for an item far larger than its socket takes, and stops (SIGSTOP)
    /// before reading the answer. A get that finds its queue empty then makes the broker recall the items the child
    /// holds: the broker goes on serving every client meanwhile, and the child, continued, ends with nothing lost.</summary>
    [Fact]
    public async Task A_child_stopped_with_SIGSTOP_while_the_broker_sends_to_it_holds_up_no_other_client()
    {
        const int Small = 64;
        var small = new Queue<string>();
        var large = new Queue<string>();
        var lengths = new Queue<int>();
        for (var i = 0; i < Small; i++)
        {
            await small.PutAsync($"item {i}");
        }
        await large.PutAsync(new string('x', 8 << 20));
        await using var child = new Process(Targets.HoldAheadThenAskAndStop, small, large, lengths);
        await child.StartAsync();
        await Eventually.TrueAsync(() => Task.FromResult(State(child.Pid!.Value) == 'T'), "the child to stop itself");
        var takenHere = 0;
        try
        {
            // On a thread of its own: a broker that blocks under its lock would block this caller, not only its task.
            await Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        await small.GetAsync(TimeSpan.FromSeconds(1));
                        takenHere++;
                    }
                }
                catch (QueueEmptyException)
                {
                    // What is left is in the stopped child, which cannot answer the recall.
                }
                var other = new Queue<int>();
                await other.PutAsync(1);
                Assert.Equal(1, await other.GetAsync(Patience));
            }).WaitAsync(TimeSpan.FromSeconds(20));
        }
        finally
        {
            Signal("CONT", child.Pid!.Value);
        }
        Assert.Equal(8 << 20, await lengths.GetAsync(Patience));
        Assert.True(await child.JoinAsync(Patience));
        Assert.Equal(0, child.ExitCode);
        Assert.InRange(takenHere, 1, Small - 2);
        Assert.Equal(Small - 1 - takenHere, await small.CountAsync());
    }

    private static char State(int pid) => File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].Trim()[0];

    private static void Signal(string signal, int pid)
    {
        using var kill = System.Diagnostics.Process.Start("kill", [$"-{signal}", pid.ToString()]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    private static bool IsRunning(int pid) =>
        File.Exists($"/proc/{pid}/stat") && File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].Trim()[0] != 'Z';

    private static int OpenDescriptors() => Directory.GetFiles("/proc/self/fd").Length;

    /// <summary>The .NET runtime's diagnostics socket and debugger pipes of process <paramref name="pid"/>.</summary>
    private static IEnumerable<string> RuntimeFilesOf(int pid) =>
        Directory.EnumerateFiles(Path.GetTempPath(), $"clr-debug-pipe-{pid}-*").Concat(Directory.EnumerateFiles(Path.GetTempPath(), $"dotnet-diagnostic-{pid}-*"));

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
