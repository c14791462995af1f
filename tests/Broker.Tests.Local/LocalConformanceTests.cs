namespace Broker.Tests.Local;

using Broker;

/// <summary>The local broker as its host process sees it: direct calls, no socket.</summary>
public sealed class LocalHostConformanceTests : ConformanceTests
{
    protected override Task<BrokerContext> ConnectAsync() => Task.FromResult(BrokerContext.Connect("local://"));

    /// <summary>A new host removes the private directories of hosts that died without removing theirs, and keeps those
    /// of hosts that run.</summary>
    [Fact]
    public async Task A_host_removes_the_directories_of_dead_hosts_and_keeps_those_of_live_ones()
    {
        int deadPid;
        using (var ended = System.Diagnostics.Process.Start("true")!)
        {
            await ended.WaitForExitAsync();
            deadPid = ended.Id;
        }
        var dead = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"broker-{deadPid}-{Guid.NewGuid():N}")).FullName;
        var live = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"broker-{Environment.ProcessId}-{Guid.NewGuid():N}")).FullName;
        try
        {
            await using var host = BrokerContext.Connect("local://");
            await new Value<int>(1, broker: host).GetAsync(); // the host makes its directory, and sweeps
            Assert.False(Directory.Exists(dead), "the dead host's directory is removed");
            Assert.True(Directory.Exists(live), "the live host's directory is kept");
        }
        finally
        {
            Directory.Delete(live);
        }
    }
}

/// <summary>The local broker as a child process sees it: every operation over the Unix-domain socket.</summary>
public sealed class LocalSocketConformanceTests : ConformanceTests
{
    private BrokerContext? _host;

    protected override async Task<BrokerContext> ConnectAsync()
    {
        _host = BrokerContext.Connect("local://");
        var url = await _host.ShareAsync(CancellationToken.None);
        Assert.StartsWith("local:///", url);
        return BrokerContext.Connect(url);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Values_and_locks_past_the_first_file_of_shared_memory_are_shared_by_host_and_child()
    {
        var values = Enumerable.Range(0, global::Broker.Transport.Local.SlotMemory.SlotsPerSegment + 2).Select(i => new Value<int>(i, broker: Broker)).ToList();
        foreach (var value in values)
        {
            await value.AddAsync(1);
        }
        var last = new Value<int>(name: values[^1].Name, broker: _host!);
        Assert.Equal(values.Count, await last.GetAsync());
        var held = new Lock(name: last.Name, broker: Broker);
        Assert.True(await held.AcquireAsync());
        Assert.False(await new Lock(name: last.Name, broker: _host!).AcquireAsync(TimeSpan.FromMilliseconds(50)));
        await held.ReleaseAsync();
    }

    /// <summary>Frames a broken or hostile client could send (random lengths, operations and arguments, frames cut
    /// short, lengths past the limit) close that client's connection or fail its request; the broker goes on serving
    /// every other client, and nothing of theirs is lost.</summary>
    [Fact]
    public async Task Malformed_frames_from_one_client_never_disturb_another()
    {
        var random = new Random(20261202);
        var socketPath = new Uri((await _host!.ShareAsync(CancellationToken.None)).Replace("local://", "file://")).LocalPath;
        var queue = new JoinableQueue<int>(broker: Broker);
        var sent = 0;
        for (var connection = 0; connection < 300; connection++)
        {
            await queue.PutAsync(sent++);
            using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
            await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(socketPath));
            for (var frame = 0; frame < 5; frame++)
            {
                try
                {
                    await socket.SendAsync(Frame(random));
                }
                catch (System.Net.Sockets.SocketException)
                {
                    break; // the broker closed this connection
                }
            }
        }
        for (var i = 0; i < sent; i++)
        {
            Assert.Equal(i, await queue.GetAsync(Patience));
            await queue.TaskDoneAsync();
        }
        Assert.True(await queue.JoinAsync(Patience));

        static byte[] Frame(Random random)
        {
            var arguments = new byte[random.Next(0, 48)];
            random.NextBytes(arguments);
            var length = random.Next(4) switch
            {
                0 => (uint)random.Next(),                       // anything, past the limit included
                1 => (uint)(5 + arguments.Length + 16),         // longer than what follows: cut short
                _ => (uint)(5 + arguments.Length),              // a whole frame of random content
            };
            var frame = new byte[9 + arguments.Length];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(frame, length);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(4), random.Next());
            frame[8] = (byte)random.Next(0, 14);
            arguments.CopyTo(frame, 9);
            return frame;
        }
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }
}
