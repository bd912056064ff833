using System.Net.Sockets;
using EventIO.Net;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Servers;

/// <summary>--idle-timeout and --max-connections: idle peers are closed, extra clients are turned away at once.</summary>
public sealed class TcpLimitsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void IdleTimeout_ClosesTheSilentPeer_AndSparesTheBusyOne(int loops)
    {
        // Long enough that the busy client's sends are never that far apart, even when this thread is
        // descheduled on a saturated machine (at 300 ms the busy one was sometimes closed too).
        TimeSpan timeout = TestTimeouts.Scale(TimeSpan.FromSeconds(1));
        using var loop = new LoopThread(loops: loops);
        TcpServer server = ServerTestSupport.StartTcpEcho(loop, options: new TcpServerOptions { IdleTimeout = timeout });
        var deadline = System.Diagnostics.Stopwatch.StartNew(); // before connecting: the server's clock starts later
        using Socket idle = Loopback.TcpConnect(server.LocalEndPoint);
        using Socket busy = Loopback.TcpConnect(server.LocalEndPoint);

        // The busy client keeps a byte in flight until the idle one has been closed.
        byte[] one = [42];
        idle.Blocking = false;
        bool idleClosed = false;
        while (!idleClosed)
        {
            Assert.True(deadline.Elapsed < TestTimeouts.Passing, "the idle connection was never closed");
            busy.Send(one);
            Assert.Equal(one, Loopback.ReceiveExactly(busy, 1));
            try
            {
                idleClosed = idle.Receive(new byte[1]) == 0;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.WouldBlock)
            {
            }
        }

        Assert.True(deadline.Elapsed >= timeout, $"closed after {deadline.Elapsed}, before the timeout");
        busy.Send(one);
        Assert.Equal(one, Loopback.ReceiveExactly(busy, 1));
        Assert.Equal(1, loop.Invoke(() => server.IdleClosedCount));
        Assert.Equal(1, loop.Invoke(() => server.ConnectionCount));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void MaxConnections_ClosesExtraClientsAtOnce_AndCountsThem(int loops)
    {
        using var loop = new LoopThread(loops: loops);
        TcpServer server = ServerTestSupport.StartTcpEcho(loop, options: new TcpServerOptions { MaxConnections = 2 });
        using Socket first = Loopback.TcpConnect(server.LocalEndPoint);
        using Socket second = Loopback.TcpConnect(server.LocalEndPoint);
        Eventually.True(() => loop.Invoke(() => server.ConnectionCount) == 2);

        using Socket third = Loopback.TcpConnect(server.LocalEndPoint);
        Assert.Equal(0, third.Receive(new byte[1])); // closed by the server, promptly (ReceiveTimeout is the deadline)
        Assert.Equal(1, loop.Invoke(() => server.RejectedCount));

        first.Send("still served"u8);
        Assert.Equal("still served"u8.ToArray(), Loopback.ReceiveExactly(first, 12));

        // A slot frees up: the next client is served.
        second.Close();
        Eventually.True(() => loop.Invoke(() => server.ConnectionCount) == 1);
        using Socket fourth = Loopback.TcpConnect(server.LocalEndPoint);
        fourth.Send("welcome"u8);
        Assert.Equal("welcome"u8.ToArray(), Loopback.ReceiveExactly(fourth, 7));
    }
}
