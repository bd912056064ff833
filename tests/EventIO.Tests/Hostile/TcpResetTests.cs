using System.Net.Sockets;
using EventIO.Net;
using EventIO.Polling;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Servers;

namespace EventIO.Tests.Hostile;

/// <summary>
/// A client resets its connection (SO_LINGER 0, then close) in every state a connection of the echo server
/// can be in. Whatever the state, the server closes that connection, releases what it queued for it, keeps
/// its loop alive and serves the next client. On the default backend (epoll) and on poll.
/// </summary>
public sealed class TcpResetTests
{
    public enum ResetPoint
    {
        /// <summary>Connected and reset while the loop was busy: the reset connection waits in the accept backlog.</summary>
        BeforeAccept,

        /// <summary>Accepted by the server, nothing sent yet.</summary>
        AfterAcceptBeforeSending,

        /// <summary>Sending a large payload and reading the echo at the same time: bytes in flight both ways.</summary>
        MidTransfer,

        /// <summary>Sent a lot without reading: the server holds echo it cannot send.</summary>
        ServerHasQueuedData,

        /// <summary>Sent so much without reading that the server stopped reading the client (back-pressure).</summary>
        ServerPausedReading,

        /// <summary>Sent, then shut down its sending side; reset while the server is still writing the echo.</summary>
        AfterHalfClose,
    }

    // Every reset point on epoll and poll with one loop, and on epoll with two (connections handed to both).
    public static TheoryData<PollerBackend, ResetPoint, int> Cases
    {
        get
        {
            var data = new TheoryData<PollerBackend, ResetPoint, int>();
            foreach ((PollerBackend backend, int loops) in new[] { (PollerBackend.Default, 1), (PollerBackend.Poll, 1), (PollerBackend.Default, 2) })
            {
                foreach (ResetPoint point in Enum.GetValues<ResetPoint>())
                {
                    data.Add(backend, point, loops);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ClientResets_ServerClosesTheConnection_AndServesTheNextClient(PollerBackend backend, ResetPoint point, int loops)
    {
        using var loopThread = new LoopThread(backend, loops);
        var probe = new ConnectionProbe();
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread, probe.Factory);

        TcpEchoConnection? connection = point switch
        {
            ResetPoint.BeforeAccept => ResetBeforeAccept(loopThread, server),
            ResetPoint.AfterAcceptBeforeSending => ResetAfterAccept(loopThread, server, probe),
            ResetPoint.MidTransfer => ResetMidTransfer(loopThread, server, probe),
            ResetPoint.ServerHasQueuedData => ResetWhileQueued(loopThread, server, probe, untilPaused: false),
            ResetPoint.ServerPausedReading => ResetWhileQueued(loopThread, server, probe, untilPaused: true),
            ResetPoint.AfterHalfClose => ResetAfterHalfClose(loopThread, server, probe),
            _ => throw new ArgumentOutOfRangeException(nameof(point)),
        };

        string context = $"{backend}/{point}/{loops} loops";
        if (connection is not null)
        {
            Eventually.True(() => loopThread.Invoke(() => connection.IsClosed), ServerTestSupport.BulkDeadline, $"{context}: the reset connection should be closed");
            Assert.Equal(0, loopThread.Invoke(() => connection.QueuedBytes)); // its queue went back to the pool
        }

        HostileSupport.AssertRecoveredAndServing(loopThread, server, context);
    }

    // The loop is held while the client connects and resets, so the server only meets the connection
    // (already reset) in its backlog: accept may hand it over or fail with ECONNABORTED; neither may hurt.
    private static TcpEchoConnection? ResetBeforeAccept(LoopThread loopThread, TcpServer server)
    {
        using (new LoopHold(loopThread))
        {
            using Socket client = ServerTestSupport.NewTcpClient();
            client.Connect(server.LocalEndPoint); // completed by the kernel; the server has not accepted yet
            HostileSupport.Reset(client);
        }

        return null;
    }

    private static TcpEchoConnection ResetAfterAccept(LoopThread loopThread, TcpServer server, ConnectionProbe probe)
    {
        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);
        TcpEchoConnection connection = probe.WaitFor(loopThread);
        Assert.False(loopThread.Invoke(() => connection.IsClosed));
        HostileSupport.Reset(client);
        return connection;
    }

    // One thread drives both directions of a non-blocking client: it keeps sending (an endless stream that
    // repeats an odd-sized pattern), checks the echo as it comes, and resets once a good part came back
    // while much more is still in flight.
    private static TcpEchoConnection ResetMidTransfer(LoopThread loopThread, TcpServer server, ConnectionProbe probe)
    {
        const int EchoedBeforeReset = 4 * 1024 * 1024;
        const int InFlightBeforeReset = 256 * 1024;
        const long GiveUpAfter = 512L * 1024 * 1024;
        byte[] pattern = ServerTestSupport.RandomBytes((1024 * 1024) + 7, 31);
        var received = new byte[64 * 1024];

        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);
        TcpEchoConnection connection = probe.WaitFor(loopThread);
        client.Blocking = false;
        long sent = 0, echoed = 0;
        DateTime deadline = DateTime.UtcNow + ServerTestSupport.BulkDeadline;
        while (echoed < EchoedBeforeReset || sent - echoed < InFlightBeforeReset)
        {
            Assert.True(DateTime.UtcNow < deadline, $"The transfer did not get going: sent {sent}, echoed {echoed}.");
            Assert.True(sent < GiveUpAfter, $"Never {InFlightBeforeReset} bytes in flight: sent {sent}, echoed {echoed}.");
            int wrote = ServerTestSupport.TrySend(client, pattern, sent);
            sent += wrote;
            int read = HostileSupport.TryReceive(client, received);
            HostileSupport.AssertPattern(pattern, echoed, received.AsSpan(0, read));
            echoed += read;
            if (wrote == 0 && read == 0)
            {
                HostileSupport.WaitForProgress(client, wantWrite: true);
            }
        }

        Assert.False(loopThread.Invoke(() => connection.IsClosed));
        HostileSupport.Reset(client);
        return connection;
    }

    // Writes without reading until the server holds echo it cannot send (and, if asked, until it stopped
    // reading this client because the queue passed the high watermark).
    private static TcpEchoConnection ResetWhileQueued(LoopThread loopThread, TcpServer server, ConnectionProbe probe, bool untilPaused)
    {
        byte[] chunk = ServerTestSupport.RandomBytes(64 * 1024, 5);
        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);
        TcpEchoConnection connection = probe.WaitFor(loopThread);
        client.Blocking = false;
        long sent = 0;
        int blockedInARow = 0;
        Eventually.True(
            () =>
            {
                int n = ServerTestSupport.TrySend(client, chunk, sent);
                sent += n;
                blockedInARow = n == 0 ? blockedInARow + 1 : 0;

                // Both directions full (we cannot write either): what the server has queued it cannot send.
                // (On io_uring everything is queued first, so a queue alone proves nothing.)
                return blockedInARow >= 20 && loopThread.Invoke(() => untilPaused ? connection.State == TcpConnectionState.ReadPaused : connection.QueuedBytes > 0);
            },
            ServerTestSupport.BulkDeadline,
            untilPaused ? "the server should stop reading a client that does not read" : "the server should end up with echo it cannot send");

        Assert.True(loopThread.Invoke(() => !connection.IsClosed && connection.QueuedBytes > 0));
        HostileSupport.Reset(client);
        return connection;
    }

    // A client with a small receive window writes until the server queues echo, then shuts down its
    // sending side. Once the server has read that end of stream (it now only flushes, then closes) and
    // still holds echo, the client resets.
    private static TcpEchoConnection ResetAfterHalfClose(LoopThread loopThread, TcpServer server, ConnectionProbe probe)
    {
        byte[] chunk = ServerTestSupport.RandomBytes(16 * 1024, 6);
        var sink = new byte[64 * 1024];
        using Socket client = ServerTestSupport.NewTcpClient();
        client.ReceiveBufferSize = 4096; // before connecting: a small window, so the echo backs up in the server
        client.Connect(server.LocalEndPoint);
        TcpEchoConnection connection = probe.WaitFor(loopThread);
        client.Blocking = false;

        long sent = 0;
        Eventually.True(
            () =>
            {
                sent += ServerTestSupport.TrySend(client, chunk, sent);
                return loopThread.Invoke(() => connection.QueuedBytes > 256 * 1024); // more than a send in flight: it cannot send it
            },
            ServerTestSupport.BulkDeadline,
            "the server should end up with echo it cannot send");

        client.Shutdown(SocketShutdown.Send);

        // Wait until the server has read our FIN: it no longer wants to read, yet is not paused, and has
        // echo left. Should it have paused reading (too much queued), let a little drain so it reads on.
        Eventually.True(
            () =>
            {
                (bool reading, bool paused, long queued, bool closed) =
                    loopThread.Invoke(() => (connection.State == TcpConnectionState.Open, connection.State == TcpConnectionState.ReadPaused, connection.QueuedBytes, connection.IsClosed));
                Assert.False(closed, "The server closed the connection before the test could reset it.");
                if (paused)
                {
                    HostileSupport.TryReceive(client, sink);
                    return false;
                }

                return !reading && queued > 0;
            },
            ServerTestSupport.BulkDeadline,
            "the server should see the end of stream while it still has echo to write");

        HostileSupport.Reset(client);
        return connection;
    }
}
