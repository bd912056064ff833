using System.Diagnostics;
using System.Net.Sockets;
using EventIO.Net;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Servers;

/// <summary>A client that writes and never reads cannot make the echo server's memory grow without bound.</summary>
public sealed class TcpBackPressureTests
{
    [Fact]
    public void ClientThatNeverReads_IsThrottled_AndTheServerResumesWhenItReads()
    {
        // The server may queue at most: the high watermark, plus the one read that crossed it (one loop
        // receive buffer), plus the unused tail of one outgoing segment.
        long bound = TcpConnectionOptions.Default.HighWatermark + new EventLoopOptions().ReceiveBufferSize + OutgoingBuffer.SegmentSize;
        const long GiveUpAfter = 256L * 1024 * 1024; // the client must be stopped long before this
        byte[] pattern = ServerTestSupport.RandomBytes((1024 * 1024) + 7, 20); // odd length: repeats never line up with buffers

        using var loopThread = new LoopThread();
        var probe = new ConnectionProbe();
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread, probe.Factory);
        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);
        TcpEchoConnection connection = probe.WaitFor(loopThread);
        client.Blocking = false;

        // 1. Write without reading until the server stops reading us.
        long sent = 0;
        Eventually.True(
            () =>
            {
                sent += ServerTestSupport.TrySend(client, pattern, sent);
                Assert.True(sent < GiveUpAfter, "The server never paused reading.");
                return loopThread.Invoke(() => connection.State == TcpConnectionState.ReadPaused);
            },
            ServerTestSupport.BulkDeadline,
            "the server should pause reading a peer that does not read");

        // 2. Keep trying to write: the queue must stay bounded, and the client must soon be unable to write at
        //    all (the kernel buffers fill up). From then on reading stays paused. (On io_uring a first pause can
        //    end early: the queue counts what its sends will still put in socket buffers that are not full yet.)
        long maxQueued = 0;
        int wouldBlockInARow = 0;
        var watch = Stopwatch.StartNew();
        while (wouldBlockInARow < 20 || !loopThread.Invoke(() => connection.State == TcpConnectionState.ReadPaused))
        {
            Assert.True(watch.Elapsed < ServerTestSupport.BulkDeadline, "The client could keep writing: back-pressure did not reach it.");
            int n = ServerTestSupport.TrySend(client, pattern, sent);
            sent += n;
            wouldBlockInARow = n == 0 ? wouldBlockInARow + 1 : 0;
            long queued = loopThread.Invoke(() => connection.QueuedBytes);
            maxQueued = Math.Max(maxQueued, queued);
            Assert.InRange(queued, 0, bound);
        }

        watch.Restart();
        while (watch.Elapsed < TestTimeouts.NothingHappens * 2)
        {
            sent += ServerTestSupport.TrySend(client, pattern, sent);
            (long queued, bool paused) = loopThread.Invoke(() => (connection.QueuedBytes, connection.State == TcpConnectionState.ReadPaused));
            maxQueued = Math.Max(maxQueued, queued);
            Assert.True(paused, "Reading resumed although the client read nothing.");
            Assert.InRange(queued, 0, bound);
        }

        Assert.InRange(maxQueued, TcpConnectionOptions.Default.LowWatermark + 1, bound);
        Assert.True(sent < GiveUpAfter);

        // 3. Read everything back: the server resumes and every byte arrives in order.
        client.Blocking = true;
        ServerTestSupport.ReceivePattern(client, pattern, sent);
        Eventually.True(() => loopThread.Invoke(() => connection.State != TcpConnectionState.ReadPaused && connection.QueuedBytes == 0));

        byte[] after = "still echoing"u8.ToArray();
        client.Send(after);
        Assert.Equal(after, Loopback.ReceiveExactly(client, after.Length));
        Assert.Equal(1, loopThread.Invoke(() => server.ConnectionCount));
    }
}
