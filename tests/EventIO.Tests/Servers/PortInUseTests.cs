using System.Net.Sockets;
using EventIO.Net;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;
using EventIO.Work;

namespace EventIO.Tests.Servers;

/// <summary>
/// Binding a port that a server already holds fails clearly, and the first server is unharmed; a port
/// whose old connections sit in TIME_WAIT can be bound again at once.
/// </summary>
/// <remarks>Servers may be constructed on any thread; the failing constructors run on the test thread so that the exception arrives unwrapped.</remarks>
public sealed class PortInUseTests
{
    [Fact]
    public void SecondTcpServer_OnTheSamePort_ThrowsAddressAlreadyInUse()
    {
        using var loopThread = new LoopThread();
        TcpServer first = ServerTestSupport.StartTcpEcho(loopThread);

        SocketException ex = Assert.Throws<SocketException>(() => new TcpServer(first.LocalEndPoint, TcpEchoConnection.Create));

        Assert.Equal(SocketError.AddressAlreadyInUse, ex.SocketErrorCode);
        using Socket client = Loopback.TcpConnect(first.LocalEndPoint);
        client.Send("still mine"u8);
        Assert.Equal("still mine"u8.ToArray(), Loopback.ReceiveExactly(client, 10));
    }

    [Fact]
    public void SecondUdpServer_OnTheSamePort_ThrowsAddressAlreadyInUse()
    {
        using var loopThread = new LoopThread();
        using var pool = new WorkerPool(1, 4);
        UdpEchoServer first = ServerTestSupport.StartUdpEcho(loopThread);

        SocketException echo = Assert.Throws<SocketException>(() => new UdpEchoServer(first.LocalEndPoint));
        SocketException time = Assert.Throws<SocketException>(() => new UdpTimeServer(first.LocalEndPoint));
        SocketException fib = Assert.Throws<SocketException>(() => new UdpFibonacciServer(first.LocalEndPoint, pool));

        Assert.Equal(SocketError.AddressAlreadyInUse, echo.SocketErrorCode);
        Assert.Equal(SocketError.AddressAlreadyInUse, time.SocketErrorCode);
        Assert.Equal(SocketError.AddressAlreadyInUse, fib.SocketErrorCode);
        using Socket client = Loopback.UdpClient();
        Assert.Equal("still mine"u8.ToArray(), ServerTestSupport.Exchange(client, first.LocalEndPoint, "still mine"u8));
    }

    [Fact]
    public void TcpServer_RebindsItsPort_WhileOldConnectionsAreInTimeWait()
    {
        using var loopThread = new LoopThread();
        TcpServer first = ServerTestSupport.StartTcpEcho(loopThread);
        using (Socket client = Loopback.TcpConnect(first.LocalEndPoint))
        {
            client.Send("x"u8);
            Assert.Equal("x"u8.ToArray(), Loopback.ReceiveExactly(client, 1));

            // The server closes first, so its side of the connection goes to TIME_WAIT on this port.
            loopThread.Invoke(first.Dispose);
            ServerTestSupport.AssertEndOfStream(client);
        }

        TcpServer second = ServerTestSupport.Start(loopThread, loop => new TcpServer(first.LocalEndPoint, TcpEchoConnection.Create));

        Assert.Equal(first.LocalEndPoint, second.LocalEndPoint);
        using Socket again = Loopback.TcpConnect(second.LocalEndPoint);
        again.Send("y"u8);
        Assert.Equal("y"u8.ToArray(), Loopback.ReceiveExactly(again, 1));
    }
}
