using System.Net;
using System.Net.Sockets;
using EventIO.Net;
using EventIO.Polling;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Servers;

namespace EventIO.Tests.Uring;

/// <summary>
/// The building blocks' own io_uring requests, at their edges: buffer rings run dry (ENOBUFS ends a
/// multishot request, which is armed again), datagrams cut or empty, replies longer than a reply slot, a
/// server closed with replies queued, and every request's completion slot given back once it closed.
/// </summary>
public sealed class IoUringServerTests
{
    [UringFact]
    public void UdpBurst_LargerThanTheDatagramBuffers_EveryDatagramIsAnswered()
    {
        const int Burst = 1000; // the loop has 128 datagram buffers: the receive runs dry (ENOBUFS) several times
        using var loopThread = new LoopThread(PollerBackend.IoUring);
        UdpEchoServer server = ServerTestSupport.StartUdpEcho(loopThread, new UdpServerOptions { ReceiveBufferSize = 4 << 20 });
        using Socket client = Loopback.UdpClient();
        client.ReceiveBufferSize = 4 << 20;

        using (Hold(loopThread.Loop))
        {
            for (int i = 0; i < Burst; i++)
            {
                client.SendTo(BitConverter.GetBytes(i), server.LocalEndPoint);
            }
        }

        var seen = new bool[Burst];
        var buffer = new byte[64];
        for (int i = 0; i < Burst; i++)
        {
            Assert.Equal(4, client.Receive(buffer));
            seen[BitConverter.ToInt32(buffer)] = true;
        }

        Assert.All(seen, Assert.True);
        Assert.True(loopThread.Invoke(() => server.ReceivesThroughRing), "the server received through readiness, not its own RECVMSG");
        Assert.Equal(Burst, loopThread.Invoke(() => server.DatagramsReceived));
        Assert.Equal(Burst, loopThread.Invoke(() => server.RepliesSent));
        Assert.Null(loopThread.Failure);
    }

    [UringFact]
    public void UdpReply_LongerThanAReplySlot_GoesOutWhole_AndAnEmptyDatagramIsDelivered()
    {
        using var loopThread = new LoopThread(PollerBackend.IoUring);
        UdpEchoServer server = ServerTestSupport.StartUdpEcho(loopThread);
        using Socket client = Loopback.UdpClient();

        byte[] large = ServerTestSupport.RandomBytes(60_000, 3);
        Assert.Equal(large, ServerTestSupport.Exchange(client, server.LocalEndPoint, large));
        Assert.Empty(ServerTestSupport.Exchange(client, server.LocalEndPoint, []));
        Assert.Equal(2, loopThread.Invoke(() => server.DatagramsReceived));
    }

    [UringFact]
    public void UdpDatagram_LongerThanTheLoopsBuffer_IsCutAndCounted_AsOnTheReadinessPath()
    {
        using var loopThread = new LoopThread(new EventLoopOptions { Backend = PollerBackend.IoUring, ReceiveBufferSize = 1024 });
        UdpEchoServer server = ServerTestSupport.StartUdpEcho(loopThread);
        using Socket client = Loopback.UdpClient();

        byte[] reply = ServerTestSupport.Exchange(client, server.LocalEndPoint, ServerTestSupport.RandomBytes(3000, 5));
        Assert.Equal(1024, reply.Length);
        Assert.Equal(1, loopThread.Invoke(() => server.TruncatedDatagrams));
    }

    [UringFact]
    public void UdpServer_ClosedByItsOwnCallback_StillSendsTheRepliesItQueued_AndGivesBackItsSlot()
    {
        using var loopThread = new LoopThread(PollerBackend.IoUring);
        int before = -1;
        LastWords server = ServerTestSupport.Start(loopThread, loop =>
        {
            before = loop.Ring!.Completions.Count;
            return new LastWords(Loopback.AnyPort);
        });
        using Socket client = Loopback.UdpClient();

        Assert.Equal("goodbye 1", Loopback.UdpRequest(client, server.LocalEndPoint, "x"u8));
        var buffer = new byte[64];
        Assert.Equal("goodbye 2", System.Text.Encoding.ASCII.GetString(buffer, 0, client.Receive(buffer)));
        Eventually.True(() => loopThread.Invoke(() => server.IsClosed && loopThread.Loop.Ring!.Completions.Count == before));
        Assert.Null(loopThread.Failure);
    }

    [UringFact]
    public void TcpBurst_FromManyConnections_LargerThanTheStreamBuffers_EveryByteIsEchoed()
    {
        const int Connections = 48;
        const int Bytes = 64 * 1024; // 48 x 64 KiB waiting at once: 768 buffers' worth, the ring has 512
        using var loopThread = new LoopThread(PollerBackend.IoUring);
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread);
        Socket[] clients = [.. Enumerable.Range(0, Connections).Select(_ => Loopback.TcpConnect(server.LocalEndPoint))];
        try
        {
            Eventually.True(() => loopThread.Invoke(() => server.ConnectionCount) == Connections);
            byte[][] data = [.. Enumerable.Range(0, Connections).Select(i => ServerTestSupport.RandomBytes(Bytes, i))];
            using (Hold(loopThread.Loop))
            {
                foreach ((Socket client, int i) in clients.Select((c, i) => (c, i)))
                {
                    Assert.Equal(Bytes, client.Send(data[i])); // fits in the server's receive buffer: waiting there
                }
            }

            for (int i = 0; i < Connections; i++)
            {
                ServerTestSupport.AssertSameBytes(data[i], Loopback.ReceiveExactly(clients[i], Bytes));
            }
        }
        finally
        {
            foreach (Socket client in clients)
            {
                client.Dispose();
            }
        }

        Eventually.True(() => loopThread.Invoke(() => server.ConnectionCount) == 0);
        Assert.Null(loopThread.Failure);
    }

    // Blocks the loop thread inside a posted callback until disposed, so requests pile up in the kernel.
    private static Release Hold(EventLoop loop)
    {
        var entered = new ManualResetEventSlim();
        var release = new ManualResetEventSlim();
        Assert.True(loop.Post(_ =>
        {
            entered.Set();
            release.Wait(TestTimeouts.Passing);
        }, null));
        Assert.True(entered.Wait(TestTimeouts.Passing), "the loop did not run the holding callback");
        return new Release(release);
    }

    private sealed class Release(ManualResetEventSlim release) : IDisposable
    {
        public void Dispose() => release.Set();
    }

    // Answers the first datagram twice and closes itself in the same callback.
    private sealed class LastWords(IPEndPoint endPoint) : UdpServer(endPoint)
    {
        protected override void OnDatagram(ReadOnlySpan<byte> datagram, SocketAddress remote)
        {
            SendTo("goodbye 1"u8, remote);
            SendTo("goodbye 2"u8, remote);
            Close();
        }
    }
}
