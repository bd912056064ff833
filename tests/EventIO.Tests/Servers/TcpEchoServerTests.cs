using System.Net.Sockets;
using System.Text;
using EventIO.Net;
using EventIO.Polling;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Servers;

/// <summary>End-to-end tests of <see cref="TcpServer"/> with <see cref="TcpEchoConnection"/>: echo, bulk transfer, half-close.</summary>
public class TcpEchoServerTests
{
    /// <summary>The echo under test: null for <see cref="TcpEchoConnection"/>; <see cref="AsyncTcpEchoServerTests"/> runs the same tests on <see cref="AsyncTcpEcho"/>.</summary>
    protected virtual Func<System.Net.Sockets.SafeSocketHandle, TcpConnection>? Echo => null;

    public static TheoryData<PollerBackend> Backends => ServerTestSupport.AllBackends;

    [Theory]
    [MemberData(nameof(Backends))]
    public void OneClient_GetsItsBytesEchoed_OnEveryBackend(PollerBackend backend)
    {
        using var loopThread = new LoopThread(backend);
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread, Echo);

        using (Socket client = Loopback.TcpConnect(server.LocalEndPoint))
        {
            byte[] hello = "hello, event loop"u8.ToArray();
            client.Send(hello);
            Assert.Equal(hello, Loopback.ReceiveExactly(client, hello.Length));

            // Larger than one read buffer and one outgoing segment, small enough not to need concurrent reading.
            byte[] data = ServerTestSupport.RandomBytes(100_000, 2);
            client.Send(data);
            ServerTestSupport.AssertSameBytes(data, Loopback.ReceiveExactly(client, data.Length));

            Assert.Equal(1, loopThread.Invoke(() => server.ConnectionCount));
            client.Shutdown(SocketShutdown.Send);
            ServerTestSupport.AssertEndOfStream(client);
        }

        Eventually.True(() => loopThread.Invoke(() => server.ConnectionCount) == 0);
        Assert.Equal(1, loopThread.Invoke(() => server.AcceptedCount));
    }

    [Fact]
    public async Task TenMebibytes_AreEchoedByteForByte()
    {
        const int Size = 10 * 1024 * 1024;
        using var loopThread = new LoopThread();
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread, Echo);
        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);
        using var cts = new CancellationTokenSource(ServerTestSupport.BulkDeadline);
        byte[] data = ServerTestSupport.RandomBytes(Size, 10);
        byte[] received = new byte[Size];

        // Write and read at once: a client that only writes would stall on the server's back-pressure.
        Task sending = Task.Run(async () =>
        {
            for (int offset = 0; offset < Size; offset += 256 * 1024)
            {
                await ServerTestSupport.SendAllAsync(client, data.AsMemory(offset, Math.Min(256 * 1024, Size - offset)), cts.Token);
            }
        });
        Task receiving = Task.Run(() => ServerTestSupport.ReceiveExactlyAsync(client, received, cts.Token));
        await Task.WhenAll(sending, receiving).WaitAsync(ServerTestSupport.BulkDeadline);

        ServerTestSupport.AssertSameBytes(data, received);
        client.Shutdown(SocketShutdown.Send);
        ServerTestSupport.AssertEndOfStream(client);
        Eventually.True(() => loopThread.Invoke(() => server.ConnectionCount) == 0);
    }

    [Fact]
    public void HalfClose_ClientStillReceivesEveryByte_ThenEndOfStream()
    {
        using var loopThread = new LoopThread();
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread, Echo);
        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);
        byte[] data = ServerTestSupport.RandomBytes(300_000, 3);

        // Under the high watermark, so the server reads all of it even though we do not read yet.
        Assert.Equal(data.Length, client.Send(data));
        client.Shutdown(SocketShutdown.Send);

        ServerTestSupport.AssertSameBytes(data, Loopback.ReceiveExactly(client, data.Length));
        ServerTestSupport.AssertEndOfStream(client);
        Eventually.True(() => loopThread.Invoke(() => server.ConnectionCount) == 0);
    }

    [Fact]
    public void HalfClose_WhileTheServerStillHasEchoQueued_FlushesItBeforeClosing()
    {
        using var loopThread = new LoopThread();
        var probe = new ConnectionProbe(socket => socket.SendBufferSize = 16 * 1024); // no send-buffer autotuning: the kernel cannot absorb the echo
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread, probe.Factory);
        using Socket client = ServerTestSupport.NewTcpClient();
        client.ReceiveBufferSize = 16 * 1024;
        client.Connect(server.LocalEndPoint);
        TcpEchoConnection connection = probe.WaitFor(loopThread);
        byte[] data = ServerTestSupport.RandomBytes(400_000, 4);

        Assert.Equal(data.Length, client.Send(data));
        client.Shutdown(SocketShutdown.Send);

        // The server has read our end of stream (it no longer wants to read, and not because of
        // back-pressure) while most of the echo is still in its own queue.
        Eventually.True(() => loopThread.Invoke(() => connection is { State: TcpConnectionState.PeerClosed or TcpConnectionState.Draining, QueuedBytes: > 0 }));

        ServerTestSupport.AssertSameBytes(data, Loopback.ReceiveExactly(client, data.Length));
        ServerTestSupport.AssertEndOfStream(client);
        Eventually.True(() => loopThread.Invoke(() => server.ConnectionCount) == 0);
        Assert.True(loopThread.Invoke(() => connection.IsClosed));
    }

    [Fact]
    public void HalfClose_WithNothingSent_GivesEndOfStreamAtOnce()
    {
        using var loopThread = new LoopThread();
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread, Echo);
        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);

        client.Shutdown(SocketShutdown.Send);

        ServerTestSupport.AssertEndOfStream(client);
        Eventually.True(() => loopThread.Invoke(() => server.ConnectionCount) == 0);
    }

    [Fact]
    public void ConnectionCount_FollowsClients_AndReturnsToZero()
    {
        const int Clients = 20;
        using var loopThread = new LoopThread();
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread, Echo);
        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < Clients; i++)
            {
                Socket client = Loopback.TcpConnect(server.LocalEndPoint);
                clients.Add(client);
                byte[] message = Encoding.ASCII.GetBytes($"client {i}");
                client.Send(message);
                Assert.Equal(message, Loopback.ReceiveExactly(client, message.Length));
            }

            Assert.Equal(Clients, loopThread.Invoke(() => server.ConnectionCount));

            // Half of them close abruptly, half gracefully.
            for (int i = 0; i < Clients; i++)
            {
                if (i % 2 == 0)
                {
                    clients[i].Shutdown(SocketShutdown.Both);
                }

                clients[i].Dispose();
                if (i == Clients / 2 - 1)
                {
                    Eventually.True(() => loopThread.Invoke(() => server.ConnectionCount) == Clients / 2);
                }
            }

            Eventually.True(() => loopThread.Invoke(() => server.ConnectionCount) == 0);
            Assert.Equal(Clients, loopThread.Invoke(() => server.AcceptedCount));
            Assert.Equal(1, loopThread.Invoke(() => loopThread.Loop.HandlerCount)); // only the listener is left
        }
        finally
        {
            foreach (Socket client in clients)
            {
                client.Dispose();
            }
        }
    }
}
