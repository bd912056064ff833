using System.Net.Sockets;
using System.Text;
using EventIO.Net;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;
using EventIO.Work;

namespace EventIO.Tests.Servers;

/// <summary>End-to-end tests of <see cref="UdpFibonacciServer"/> with a real <see cref="WorkerPool"/>.</summary>
public class UdpFibonacciServerTests
{
    /// <summary>Bad requests and a phrase the error reply must contain.</summary>
    public static TheoryData<byte[], string> BadRequests => new()
    {
        { [], "empty request" },
        { "   \t\r\n "u8.ToArray(), "empty request" },
        { "abc"u8.ToArray(), "not a number" },
        { "1.5"u8.ToArray(), "not a number" },
        { "12abc"u8.ToArray(), "not a number" },
        { "-"u8.ToArray(), "not a number" },
        { "-3"u8.ToArray(), "negative number" },
        { "46"u8.ToArray(), "at most 45" },
        { "99999999999999999999"u8.ToArray(), "at most 45" },
        { Encoding.ASCII.GetBytes(new string('1', 33)), "too long" },
        { Encoding.ASCII.GetBytes("10" + new string(' ', 31)), "too long" },
        { [0x00, 0xFF, 0x10, 0x00, 0x7F], "not a number" },
        { [(byte)'1', 0x00], "not a number" },
        { [0x00], "not a number" },
    };

    [Theory]
    [InlineData("10", "89")]
    [InlineData(" 7\n", "21")]
    [InlineData("\t12\r\n", "233")]
    [InlineData("0", "1")]
    [InlineData("1", "1")]
    [InlineData("2", "2")]
    [InlineData("007", "21")]
    [InlineData("30", "1346269")]
    public void ValidRequest_GetsTheNaiveFibonacciNumber(string request, string expected)
    {
        using var loopThread = new LoopThread();
        using var pool = new WorkerPool(2, 16);
        UdpServer server = ServerTestSupport.Start(loopThread, loop => CreateServer(pool));
        using Socket client = Loopback.UdpClient();

        Assert.Equal(expected, Loopback.UdpRequest(client, server.LocalEndPoint, Encoding.ASCII.GetBytes(request)));
    }

    [Theory]
    [MemberData(nameof(BadRequests))]
    public void BadRequest_GetsAnErrorNamingTheReason_AndTheServerCarriesOn(byte[] request, string reason)
    {
        using var loopThread = new LoopThread();
        using var pool = new WorkerPool(2, 16);
        UdpServer server = ServerTestSupport.Start(loopThread, loop => CreateServer(pool));
        using Socket client = Loopback.UdpClient();

        string reply = Loopback.UdpRequest(client, server.LocalEndPoint, request);

        Assert.StartsWith("error: ", reply, StringComparison.Ordinal);
        Assert.Contains(reason, reply, StringComparison.Ordinal);
        Assert.Equal("89", Loopback.UdpRequest(client, server.LocalEndPoint, "10"u8));
        Assert.Equal(1, loopThread.Invoke(() => Totals(server).InvalidRequests));
    }

    [Fact]
    public void AfterEveryBadRequest_TheServerStillAnswers()
    {
        using var loopThread = new LoopThread();
        using var pool = new WorkerPool(2, 16);
        UdpServer server = ServerTestSupport.Start(loopThread, loop => CreateServer(pool));
        using Socket client = Loopback.UdpClient();

        int count = 0;
        foreach (object[] row in BadRequests)
        {
            string reply = Loopback.UdpRequest(client, server.LocalEndPoint, (byte[])row[0]);
            Assert.StartsWith("error: ", reply, StringComparison.Ordinal);
            Assert.Contains((string)row[1], reply, StringComparison.Ordinal);
            count++;
        }

        Assert.Equal("89", Loopback.UdpRequest(client, server.LocalEndPoint, "10"u8));
        Assert.Equal(count, loopThread.Invoke(() => Totals(server).InvalidRequests));
        Assert.False(loopThread.Invoke(() => server.IsClosed));
    }

    [Fact]
    public void AfterThePoolShutsDown_HeavyRequestsGetShuttingDown_NotBusy_AndSmallOnesAreStillAnswered()
    {
        using var loopThread = new LoopThread();
        using var pool = new WorkerPool(2, 16);
        UdpServer server = ServerTestSupport.Start(loopThread, loop => CreateServer(pool, maxN: 30));
        using Socket client = Loopback.UdpClient();
        Assert.True(pool.Shutdown(TestTimeouts.Passing));

        Assert.Equal("error: shutting down", Loopback.UdpRequest(client, server.LocalEndPoint, "25"u8));
        Assert.Equal("89", Loopback.UdpRequest(client, server.LocalEndPoint, "10"u8));
        Assert.Equal(0, loopThread.Invoke(() => Totals(server).BusyReplies));
        Assert.Equal(0, loopThread.Invoke(() => Totals(server).PendingRequests));
    }

    [Fact]
    public void CustomMaxN_RefusesAboveItAndAcceptsIt()
    {
        using var loopThread = new LoopThread();
        using var pool = new WorkerPool(2, 16);
        UdpServer server = ServerTestSupport.Start(loopThread, loop => CreateServer(pool, maxN: 20));
        using Socket client = Loopback.UdpClient();

        string refused = Loopback.UdpRequest(client, server.LocalEndPoint, "21"u8);
        Assert.StartsWith("error: ", refused, StringComparison.Ordinal);
        Assert.Contains("at most 20", refused, StringComparison.Ordinal);
        Assert.Equal("10946", Loopback.UdpRequest(client, server.LocalEndPoint, "20"u8));
    }

    [Fact]
    public async Task FullPool_RepliesBusy_AndQueuedRequestsAreAnsweredOnceItFrees()
    {
        using var loopThread = new LoopThread();
        using var release = new ManualResetEventSlim();
        using var pool = new WorkerPool(workerCount: 1, queueCapacity: 1);
        try
        {
            // Occupy the only worker until the end of the test.
            var blockerDone = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            Assert.True(loopThread.Invoke(() => pool.TryRun(() => release.Wait(TestTimeouts.Passing), r => blockerDone.SetResult(r.IsSuccess && r.Value))));
            Eventually.True(() => pool.RunningCount == 1 && pool.QueuedCount == 0);

            UdpServer server = ServerTestSupport.Start(loopThread, loop => CreateServer(pool));
            using Socket first = Loopback.UdpClient();
            using Socket second = Loopback.UdpClient();
            using Socket third = Loopback.UdpClient();

            // The first request fills the queue's only place...
            first.SendTo("25"u8, SocketFlags.None, server.LocalEndPoint); // above InlineMaxN: goes to the pool
            Eventually.True(() => pool.QueuedCount == 1);

            // ...so the next ones are refused at once instead of waiting.
            Assert.Equal("error: busy", Loopback.UdpRequest(second, server.LocalEndPoint, "26"u8));
            Assert.Equal("error: busy", Loopback.UdpRequest(third, server.LocalEndPoint, "27"u8));
            Assert.Equal("89", Loopback.UdpRequest(third, server.LocalEndPoint, "10"u8)); // small n: inline, never busy
            Assert.Equal(0, first.Available); // the queued request is not answered yet
            Assert.Equal(2, loopThread.Invoke(() => Totals(server).BusyReplies));

            release.Set();
            Assert.True(await blockerDone.Task.DefaultTimeout(), "The blocking work item did not complete normally.");
            Assert.Equal("121393", ServerTestSupport.ReceiveAscii(first, server.LocalEndPoint));

            // With the pool free again, the refused clients are served.
            Assert.Equal("196418", Loopback.UdpRequest(second, server.LocalEndPoint, "26"u8));
            Assert.Equal("317811", Loopback.UdpRequest(third, server.LocalEndPoint, "27"u8));
            Assert.Equal(2, loopThread.Invoke(() => Totals(server).BusyReplies));
        }
        finally
        {
            release.Set();
        }
    }

    [Fact]
    public void LoopStaysResponsive_WhileALongComputationRuns()
    {
        using var loopThread = new LoopThread();

        // Normal priority: the worker competes with the loop for the CPU (the harder case), and it is not
        // starved when the machine is busy, as an idle-policy worker would be.
        using var pool = new WorkerPool(2, 16, WorkerPriority.Normal);
        UdpServer fib = ServerTestSupport.Start(loopThread, loop => CreateServer(pool));
        UdpEchoServer echo = ServerTestSupport.StartUdpEcho(loopThread);
        using Socket fibClient = Loopback.UdpClient();
        using Socket echoClient = Loopback.UdpClient();

        // fib(40) takes hundreds of millions of calls: around a second on a worker.
        fibClient.SendTo("40"u8, SocketFlags.None, fib.LocalEndPoint);
        Eventually.True(() => pool.RunningCount == 1);

        for (int i = 0; i < 5; i++)
        {
            byte[] ping = Encoding.ASCII.GetBytes($"ping {i}");
            Assert.Equal(ping, ServerTestSupport.Exchange(echoClient, echo.LocalEndPoint, ping));
        }

        // The echoes were answered while the computation was still running on its worker.
        Assert.Equal(1, pool.RunningCount);
        Assert.Equal(0, fibClient.Available);

        Assert.Equal("165580141", ServerTestSupport.ReceiveAscii(fibClient, fib.LocalEndPoint));
    }

    /// <summary>The server under test: <see cref="UdpFibonacciServer"/>; <see cref="AsyncUdpFibonacciServerTests"/> runs the same tests on <see cref="AsyncUdpFibonacciServer"/>.</summary>
    protected virtual UdpServer CreateServer(WorkerPool pool, int maxN = UdpFibonacciServer.DefaultMaxN, UdpServerOptions? options = null)
        => new UdpFibonacciServer(Loopback.AnyPort, pool, maxN, options);

    private static IFibonacciServer Totals(UdpServer server) => (IFibonacciServer)server;
}
