using System.Net.Sockets;
using EventIO.Net;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Servers;

/// <summary><see cref="TcpServer.Shutdown"/>: stop listening, let every connection flush, then report drained.</summary>
public sealed class TcpServerShutdownTests
{
    [Fact]
    public async Task Shutdown_WithAHalfClosedClientsEchoStillQueued_DeliversEveryByte_ThenCallsOnDrained()
    {
        using var loopThread = new LoopThread();
        var probe = new ConnectionProbe(socket => socket.SendBufferSize = 16 * 1024); // small kernel buffers on both sides: most of the echo must queue
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread, probe.Factory);
        using Socket client = ServerTestSupport.NewTcpClient();
        client.ReceiveBufferSize = 16 * 1024;
        client.Connect(server.LocalEndPoint);
        TcpEchoConnection connection = probe.WaitFor(loopThread);
        byte[] data = ServerTestSupport.RandomBytes(512 * 1024, 11); // under the high watermark: the server reads it all

        Assert.Equal(data.Length, client.Send(data));
        client.Shutdown(SocketShutdown.Send);

        // Wait until the server has read our end of stream while echo is still queued for us.
        Eventually.True(() => loopThread.Invoke(() => connection is { State: TcpConnectionState.PeerClosed or TcpConnectionState.Draining, QueuedBytes: > 0 }));

        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool drainedAtOnce = loopThread.Invoke(() =>
        {
            server.Shutdown(() => drained.SetResult());
            return drained.Task.IsCompleted;
        });
        Assert.False(drainedAtOnce, "onDrained ran while a connection still had echo queued.");
        Assert.False(loopThread.Invoke(() => server.IsListening));
        Assert.Equal(1, loopThread.Invoke(() => server.ConnectionCount));

        // Nobody else gets in once the server has stopped listening.
        using (Socket late = ServerTestSupport.NewTcpClient())
        {
            SocketException refused = Assert.Throws<SocketException>(() => late.Connect(server.LocalEndPoint));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }

        ServerTestSupport.AssertSameBytes(data, Loopback.ReceiveExactly(client, data.Length));
        ServerTestSupport.AssertEndOfStream(client);
        await drained.Task.DefaultTimeout();
        Assert.Equal(0, loopThread.Invoke(() => server.ConnectionCount));
        Assert.Equal(0, loopThread.Invoke(() => loopThread.Loop.HandlerCount));
    }

    [Fact]
    public async Task Shutdown_WithAnIdleClient_ClosesItAndCallsOnDrained()
    {
        using var loopThread = new LoopThread();
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread);
        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);
        client.Send("ping"u8);
        Assert.Equal("ping"u8.ToArray(), Loopback.ReceiveExactly(client, 4));

        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        loopThread.Invoke(() => server.Shutdown(() => drained.SetResult()));

        // The server ends its side at once (nothing is queued); once we end ours, it is drained.
        ServerTestSupport.AssertEndOfStream(client);
        client.Shutdown(SocketShutdown.Send);
        await drained.Task.DefaultTimeout();
        Assert.Equal(0, loopThread.Invoke(() => server.ConnectionCount));
        Assert.Equal(0, loopThread.Invoke(() => loopThread.Loop.HandlerCount));
    }

    [Fact]
    public async Task Shutdown_WithNoConnections_CallsOnDrainedRightAfter_NotInsideTheCall()
    {
        using var loopThread = new LoopThread();
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread);
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        bool insideTheCall = loopThread.Invoke(() =>
        {
            server.Shutdown(() => drained.SetResult());
            return drained.Task.IsCompleted;
        });

        Assert.False(insideTheCall); // no re-entrant surprise: it runs once the caller's callback returned
        await drained.Task.DefaultTimeout();
        Assert.Equal(0, loopThread.Invoke(() => loopThread.Loop.HandlerCount));
    }
}
