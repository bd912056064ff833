using System.Net.Sockets;
using EventIO.Net;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Servers;

/// <summary>Hundreds of simultaneous TCP echo clients on one loop.</summary>
[Collection(ManyDescriptorsDefinition.Name)]
public sealed class TcpManyClientsTests
{
    [Fact]
    public async Task FiveHundredConcurrentClients_EachGetsExactlyItsOwnBytes()
    {
        const int Clients = 500;
        using var loopThread = new LoopThread();
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread);
        using var cts = new CancellationTokenSource(ServerTestSupport.BulkDeadline);
        var sockets = new Socket[Clients];
        try
        {
            for (int i = 0; i < Clients; i++)
            {
                sockets[i] = ServerTestSupport.NewTcpClient();
            }

            // All connected at once before anyone sends...
            await Task.WhenAll(sockets.Select(s => s.ConnectAsync(server.LocalEndPoint, cts.Token).AsTask())).WaitAsync(ServerTestSupport.BulkDeadline);
            Eventually.True(() => loopThread.Invoke(() => server.ConnectionCount) == Clients, ServerTestSupport.BulkDeadline);

            // ...then all talk at once, each with data no other client sends.
            Task[] talking = sockets.Select((s, i) => Task.Run(() => TalkAsync(s, i, cts.Token))).ToArray();
            await Task.WhenAll(talking).WaitAsync(ServerTestSupport.BulkDeadline);
        }
        finally
        {
            foreach (Socket? socket in sockets)
            {
                socket?.Dispose();
            }
        }

        Eventually.True(() => loopThread.Invoke(() => server.ConnectionCount) == 0, ServerTestSupport.BulkDeadline);
        Assert.Equal(Clients, loopThread.Invoke(() => server.AcceptedCount));
        Assert.Equal(1, loopThread.Invoke(() => loopThread.Loop.HandlerCount));
    }

    private static async Task TalkAsync(Socket socket, int id, CancellationToken cancellationToken)
    {
        // 1–8 KiB, starting with the client's id so that no two payloads are alike.
        byte[] data = ServerTestSupport.RandomBytes(1024 + (id * 37 % 7168), id);
        BitConverter.TryWriteBytes(data, id);
        var received = new byte[data.Length];

        await ServerTestSupport.SendAllAsync(socket, data, cancellationToken);
        await ServerTestSupport.ReceiveExactlyAsync(socket, received, cancellationToken);
        ServerTestSupport.AssertSameBytes(data, received);

        socket.Shutdown(SocketShutdown.Send);
        int n = await socket.ReceiveAsync(new byte[1], SocketFlags.None, cancellationToken);
        Assert.Equal(0, n);
    }
}
