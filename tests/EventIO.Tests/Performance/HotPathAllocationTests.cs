using System.Net;
using System.Net.Sockets;
using EventIO.Net;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;
using EventIO.Work;

namespace EventIO.Tests.Performance;

/// <summary>
/// The hot path allocates nothing: bytes allocated on the loop thread across 100,000 steady-state round
/// trips, read with GC.GetAllocatedBytesForCurrentThread on that thread. Deterministic, so it belongs in
/// the unit tests (timings do not).
/// </summary>
public sealed class HotPathAllocationTests
{
    private const int Warmup = 5_000;
    private const int RoundTrips = 100_000;

    // On a busy machine a turn can be descheduled past the slow-callback threshold, and the warning's log line
    // allocates: that is the diagnostics' cost, not the hot path's, so it is kept out of the measurement.
    private static readonly EventLoopOptions s_quietOptions = new() { SlowCallbackThreshold = TimeSpan.FromHours(1) };

    [Fact]
    public void TcpEchoRoundTrip_AllocatesNothingOnTheLoopThread()
    {
        using var loop = new LoopThread(s_quietOptions);
        TcpServer server = loop.Invoke(() =>
        {
            var s = new TcpServer(Loopback.AnyPort, TcpEchoConnection.Create);
            loop.Loop.Add(s);
            return s;
        });
        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);
        byte[] message = new byte[64];
        byte[] reply = new byte[64];

        PingPong(client, message, reply, Warmup);
        long allocated = AllocatedOnLoopThreadDuring(loop.Loop, () => PingPong(client, message, reply, RoundTrips));

        Assert.True(allocated == 0, $"{allocated} bytes allocated on the loop thread over {RoundTrips} TCP echo round trips");
    }

    [Fact]
    public void UdpEchoDatagram_AllocatesNothingOnTheLoopThread()
    {
        using var loop = new LoopThread(s_quietOptions);
        UdpEchoServer server = loop.Invoke(() =>
        {
            var s = new UdpEchoServer(Loopback.AnyPort);
            loop.Loop.Add(s);
            return s;
        });
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        client.ReceiveTimeout = (int)TestTimeouts.Passing.TotalMilliseconds;
        client.Connect(server.LocalEndPoint);
        byte[] message = new byte[64];
        byte[] reply = new byte[64];

        UdpPingPong(client, message, reply, Warmup);
        long allocated = AllocatedOnLoopThreadDuring(loop.Loop, () => UdpPingPong(client, message, reply, RoundTrips));

        Assert.True(allocated == 0, $"{allocated} bytes allocated on the loop thread over {RoundTrips} UDP echo datagrams");
        Assert.Equal(0, loop.Invoke(() => server.RepliesDropped));
    }

    [Theory]
    [InlineData("10", false)]
    [InlineData("not a number", false)]
    [InlineData("-1", false)]
    [InlineData("99", false)]
    [InlineData("", false)]
    [InlineData("25", true)] // heavy, with the pool's worker and queue full: "error: busy"
    public void UdpFibonacciSmallBadOrBusyRequest_AllocatesNothingOnTheLoopThread(string request, bool poolFull)
    {
        using var loop = new LoopThread(s_quietOptions);
        using var pool = new WorkerPool(1, 1);
        using var gate = new ManualResetEventSlim();
        try
        {
            if (poolFull)
            {
                // One gated item runs on the only worker, a second fills the queue of one.
                Assert.True(loop.Invoke(() => pool.TryRun(() => gate.Wait(TestTimeouts.Passing), static _ => { })));
                Eventually.True(() => pool.RunningCount == 1);
                Assert.True(loop.Invoke(() => pool.TryRun(() => gate.Wait(TestTimeouts.Passing), static _ => { })));
            }

            UdpFibonacciServer server = loop.Invoke(() =>
            {
                var s = new UdpFibonacciServer(Loopback.AnyPort, pool, maxN: 30);
                loop.Loop.Add(s);
                return s;
            });
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            client.ReceiveTimeout = (int)TestTimeouts.Passing.TotalMilliseconds;
            client.Connect(server.LocalEndPoint);
            byte[] message = System.Text.Encoding.ASCII.GetBytes(request);
            byte[] reply = new byte[64];

            UdpRequests(client, message, reply, Warmup);
            long allocated = AllocatedOnLoopThreadDuring(loop.Loop, () => UdpRequests(client, message, reply, RoundTrips / 10));

            Assert.True(allocated == 0, $"{allocated} bytes allocated on the loop thread over {RoundTrips / 10} Fibonacci requests \"{request}\"");
            Assert.Equal(poolFull ? Warmup + (RoundTrips / 10) : 0, loop.Invoke(() => server.BusyReplies));
        }
        finally
        {
            gate.Set();
        }
    }

    private static void UdpRequests(Socket client, byte[] message, byte[] reply, int count)
    {
        for (int i = 0; i < count; i++)
        {
            client.Send(message);
            Assert.True(client.Receive(reply) > 0);
        }
    }

    private static void PingPong(Socket client, byte[] message, byte[] reply, int count)
    {
        for (int i = 0; i < count; i++)
        {
            BitConverter.TryWriteBytes(message, i);
            client.Send(message);
            int got = 0;
            while (got < reply.Length)
            {
                int n = client.Receive(reply, got, reply.Length - got, SocketFlags.None);
                Assert.NotEqual(0, n);
                got += n;
            }

            Assert.Equal(i, BitConverter.ToInt32(reply));
        }
    }

    private static void UdpPingPong(Socket client, byte[] message, byte[] reply, int count)
    {
        for (int i = 0; i < count; i++)
        {
            BitConverter.TryWriteBytes(message, i);
            client.Send(message);
            Assert.Equal(message.Length, client.Receive(reply));
            Assert.Equal(i, BitConverter.ToInt32(reply));
        }
    }

    // Bytes the loop thread allocated while the test thread ran work (the loop serving it).
    private static long AllocatedOnLoopThreadDuring(EventLoop loop, Action work)
    {
        long before = AllocatedOnLoopThread(loop);
        work();
        return AllocatedOnLoopThread(loop) - before;
    }

    // Reads the loop thread's allocation counter from a posted action that itself allocates nothing
    // on that thread (the queue segment and the event are allocated here, on the test thread).
    private static long AllocatedOnLoopThread(EventLoop loop)
    {
        using var probe = new Probe();
        Assert.True(loop.Post(static s =>
        {
            var p = (Probe)s!;
            p.Value = GC.GetAllocatedBytesForCurrentThread();
            p.Done.Set();
        }, probe));
        Assert.True(probe.Done.Wait(TestTimeouts.Passing), "the loop did not run the probe");
        return probe.Value;
    }

    private sealed class Probe : IDisposable
    {
        public ManualResetEventSlim Done { get; } = new();

        public long Value { get; set; }

        public void Dispose() => Done.Dispose();
    }
}
