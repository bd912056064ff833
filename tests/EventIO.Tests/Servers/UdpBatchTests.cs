using System.Net;
using System.Net.Sockets;
using EventIO.Net;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;
using EventIO.Work;

namespace EventIO.Tests.Servers;

/// <summary>
/// Batched UDP (recvmmsg/sendmmsg): many peers at once, every reply to its own peer with its own bytes;
/// batches in which some replies are refused; servers on two loops sharing a port and a worker pool.
/// </summary>
public sealed class UdpBatchTests
{
    private const int Clients = 200;

    [Theory]
    [InlineData(1)]
    [InlineData(32)]
    [InlineData(64)]
    public void ManyPeersAtOnce_EachGetsItsOwnBytesBack(int batchSize)
    {
        using var loopThread = new LoopThread();
        UdpEchoServer server = ServerTestSupport.StartUdpEcho(loopThread, new UdpServerOptions { BatchSize = batchSize, ReceiveBufferSize = 4 << 20 });
        Socket[] clients = [.. Enumerable.Range(0, Clients).Select(_ => Loopback.UdpClient())];
        try
        {
            for (int round = 0; round < 5; round++)
            {
                for (int i = 0; i < clients.Length; i++)
                {
                    clients[i].SendTo(Payload(i, round), server.LocalEndPoint); // all in flight together: full batches
                }

                var buffer = new byte[256];
                for (int i = 0; i < clients.Length; i++)
                {
                    EndPoint from = new IPEndPoint(IPAddress.Any, 0);
                    int n = clients[i].ReceiveFrom(buffer, ref from);
                    Assert.Equal(server.LocalEndPoint, from);
                    Assert.Equal(Payload(i, round), buffer[..n]);
                }
            }

            Assert.Equal(5L * Clients, loopThread.Invoke(() => server.RepliesSent));
            Assert.Equal(0, loopThread.Invoke(() => server.RepliesDropped));
        }
        finally
        {
            foreach (Socket client in clients)
            {
                client.Dispose();
            }
        }
    }

    // Each datagram gets a reply the kernel refuses (to a broadcast address) and a good one: batches that
    // mix refused and delivered replies. Every good reply arrives; every refused one is counted; nothing else.
    [Fact]
    public void ABatchWithRefusedReplies_DropsAndCountsExactlyThose()
    {
        using var loopThread = new LoopThread();
        MixedReplies server = ServerTestSupport.Start(loopThread, _ => new MixedReplies(Loopback.AnyPort));
        Socket[] clients = [.. Enumerable.Range(0, 50).Select(_ => Loopback.UdpClient())];
        try
        {
            // The loop is held inside a callback while the datagrams arrive, so they wait for it together.
            using (var release = new ManualResetEventSlim())
            {
                var entered = new ManualResetEventSlim();
                Assert.True(loopThread.Loop.Post(_ =>
                {
                    entered.Set();
                    release.Wait(TestTimeouts.Passing);
                }, null));
                Assert.True(entered.Wait(TestTimeouts.Passing), "the loop did not run the holding callback");
                for (int i = 0; i < clients.Length; i++)
                {
                    clients[i].SendTo(Payload(i, 0), server.LocalEndPoint);
                }

                release.Set();
            }

            var buffer = new byte[256];
            for (int i = 0; i < clients.Length; i++)
            {
                int n = clients[i].Receive(buffer);
                Assert.Equal(Payload(i, 0), buffer[..n]);
            }

            Assert.Equal(50, loopThread.Invoke(() => server.RepliesSent));
            Assert.Equal(50, loopThread.Invoke(() => server.RepliesDropped));
            Assert.True(loopThread.Invoke(() => server.LargestBatch) > 1, "the datagrams never came in one batch");
        }
        finally
        {
            foreach (Socket client in clients)
            {
                client.Dispose();
            }
        }
    }

    // Two loops, each with a Fibonacci server on the same port (SO_REUSEPORT) and one shared pool: every
    // heavy request's result goes back on the loop that took it, to the peer that asked.
    [Fact]
    public void TwoLoops_SharedPool_EveryResultGoesBackToItsLoopAndItsPeer()
    {
        using var loopThread = new LoopThread(loops: 2);
        using var pool = new WorkerPool(workerCount: 2, queueCapacity: 1024, priority: WorkerPriority.Normal);
        var options = new UdpServerOptions { ReusePort = true };
        UdpFibonacciServer first = LoopThread.InvokeOn(loopThread.Loops[0], () => AddTo(loopThread.Loops[0], new UdpFibonacciServer(Loopback.AnyPort, pool, options: options)));
        UdpFibonacciServer second = LoopThread.InvokeOn(loopThread.Loops[1], () => AddTo(loopThread.Loops[1], new UdpFibonacciServer(first.LocalEndPoint, pool, options: options)));
        Socket[] clients = [.. Enumerable.Range(0, 64).Select(_ => Loopback.UdpClient())];
        try
        {
            for (int i = 0; i < clients.Length; i++)
            {
                clients[i].SendTo(System.Text.Encoding.ASCII.GetBytes($"{21 + (i % 5)}"), first.LocalEndPoint);
            }

            var buffer = new byte[64];
            for (int i = 0; i < clients.Length; i++)
            {
                int n = clients[i].Receive(buffer);
                Assert.Equal(Fibonacci.Compute(21 + (i % 5)).ToString(System.Globalization.CultureInfo.InvariantCulture), System.Text.Encoding.ASCII.GetString(buffer, 0, n));
            }

            long onFirst = LoopThread.InvokeOn(loopThread.Loops[0], () => first.RepliesSent);
            long onSecond = LoopThread.InvokeOn(loopThread.Loops[1], () => second.RepliesSent);
            long receivedFirst = LoopThread.InvokeOn(loopThread.Loops[0], () => first.DatagramsReceived);
            long receivedSecond = LoopThread.InvokeOn(loopThread.Loops[1], () => second.DatagramsReceived);
            Assert.Equal(64, onFirst + onSecond);
            Assert.Equal(receivedFirst, onFirst);   // each loop answered exactly what it received
            Assert.Equal(receivedSecond, onSecond);
            Assert.True(receivedFirst > 0 && receivedSecond > 0, $"the kernel put every peer on one socket ({receivedFirst}/{receivedSecond})");
        }
        finally
        {
            foreach (Socket client in clients)
            {
                client.Dispose();
            }
        }
    }

    private static UdpFibonacciServer AddTo(EventLoop loop, UdpFibonacciServer server)
    {
        loop.Add(server);
        return server;
    }

    private static byte[] Payload(int client, int round) => [.. BitConverter.GetBytes(client), .. BitConverter.GetBytes(round), (byte)(client * 31)];

    private sealed class MixedReplies(IPEndPoint endPoint) : UdpServer(endPoint, new UdpServerOptions { ReceiveBufferSize = 1 << 20 })
    {
        private static readonly SocketAddress s_refused = new IPEndPoint(IPAddress.Broadcast, 9).Serialize();
        private int _inThisBatch;

        public int LargestBatch { get; private set; }

        protected override void OnDatagram(ReadOnlySpan<byte> datagram, SocketAddress remote)
        {
            LargestBatch = Math.Max(LargestBatch, ++_inThisBatch);
            Loop.Post(static s => ((MixedReplies)s!)._inThisBatch = 0, this); // after the batch
            SendTo(datagram, s_refused);
            SendTo(datagram, remote);
        }
    }
}
