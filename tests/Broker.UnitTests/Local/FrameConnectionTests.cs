// Unix-domain sockets, as the local broker they test.
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]

namespace Broker.UnitTests.Local;

using System.Buffers.Binary;
using System.Net.Sockets;
using Broker.Transport.Local;

/// <summary>A frame connection whose peer does not read: sends return, what the socket does not take waits in the
/// backlog, and the peer, once it reads, gets every frame whole and in order.</summary>
public sealed class FrameConnectionTests
{
    [Fact]
    public async Task Sends_to_a_peer_that_does_not_read_return_and_arrive_in_order_once_it_reads()
    {
        const int Frames = 200;
        var path = Path.Combine(Path.GetTempPath(), $"broker-frames-{Guid.NewGuid():N}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        try
        {
            var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            client.Connect(new UnixDomainSocketEndPoint(path));
            var accepted = listener.Accept();
            await using var sender = new FrameConnection(accepted);

            // 200 frames of 64 KiB: many times what a socket buffer holds, with nobody reading.
            await Task.Run(() =>
            {
                for (var i = 1; i <= Frames; i++)
                {
                    var frame = new FrameWriter(i, 0);
                    frame.Bytes(new byte[64 * 1024]);
                    sender.Send(frame.Finish());
                }
            }).WaitAsync(TimeSpan.FromSeconds(30));

            var ids = new List<int>();
            var all = new TaskCompletionSource();
            await using var receiver = new FrameConnection(client);
            _ = receiver.StartReading((id, _, payload) =>
            {
                Assert.Equal(4 + 64 * 1024, payload.Length);
                Assert.Equal(64 * 1024, BinaryPrimitives.ReadInt32LittleEndian(payload));
                ids.Add(id);
                if (ids.Count == Frames)
                {
                    all.SetResult();
                }
            }, "test reader");
            await all.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(Enumerable.Range(1, Frames), ids);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
