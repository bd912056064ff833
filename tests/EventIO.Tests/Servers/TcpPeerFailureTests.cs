using System.Net.Sockets;
using EventIO.Net;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Servers;

/// <summary>Peers that reset or vanish while the echo server still has data for them.</summary>
public sealed class TcpPeerFailureTests
{
    [Fact]
    public void ClientResetsWhileDataIsQueued_ServerClosesTheConnection_AndKeepsServing()
    {
        using var loopThread = new LoopThread();
        var probe = new ConnectionProbe();
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread, probe.Factory);

        TcpEchoConnection connection;
        using (Socket client = Loopback.TcpConnect(server.LocalEndPoint))
        {
            connection = probe.WaitFor(loopThread);
            WriteUntilQueued(loopThread, client, connection);

            client.LingerState = new LingerOption(true, 0); // close sends RST
            client.Close();
        }

        Eventually.True(() => loopThread.Invoke(() => server.ConnectionCount) == 0);
        Assert.True(loopThread.Invoke(() => connection.IsClosed));
        Assert.Equal(0, loopThread.Invoke(() => connection.QueuedBytes)); // the queue was released
        Assert.Null(loopThread.Failure);
        AssertServesNewClient(loopThread, server);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ClientClosesAbruptlyWhileTheServerEchoes_NoSigpipe_ServerSurvives(bool shutdownFirst)
    {
        const int Rounds = 3;
        using var loopThread = new LoopThread();
        var probe = new ConnectionProbe();
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread, probe.Factory);

        for (int round = 0; round < Rounds; round++)
        {
            using Socket client = Loopback.TcpConnect(server.LocalEndPoint);
            TcpEchoConnection connection = probe.WaitFor(loopThread, round);
            WriteUntilQueued(loopThread, client, connection);

            // Unread echo in our receive buffer: closing sends RST, and the server's next sends hit a dead peer.
            if (shutdownFirst)
            {
                client.Shutdown(SocketShutdown.Both);
            }

            client.Close();
            Eventually.True(() => loopThread.Invoke(() => connection.IsClosed));
        }

        Eventually.True(() => loopThread.Invoke(() => server.ConnectionCount) == 0);
        Assert.Null(loopThread.Failure);
        Assert.Equal(Rounds, loopThread.Invoke(() => server.AcceptedCount));
        AssertServesNewClient(loopThread, server);
    }

    // Writes without reading until the server holds unsent echo for us.
    private static void WriteUntilQueued(LoopThread loopThread, Socket client, TcpEchoConnection connection)
    {
        byte[] chunk = ServerTestSupport.RandomBytes(64 * 1024, 5);
        client.Blocking = false;
        long sent = 0;
        Eventually.True(
            () =>
            {
                sent += ServerTestSupport.TrySend(client, chunk, sent);
                return loopThread.Invoke(() => connection.QueuedBytes) > 0;
            },
            ServerTestSupport.BulkDeadline,
            "the server should end up with echo it cannot send");
    }

    private static void AssertServesNewClient(LoopThread loopThread, TcpServer server)
    {
        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);
        byte[] data = ServerTestSupport.RandomBytes(50_000, 9);
        client.Send(data);
        ServerTestSupport.AssertSameBytes(data, Loopback.ReceiveExactly(client, data.Length));
        Assert.Equal(1, loopThread.Invoke(() => server.ConnectionCount));
    }
}
