using System.Net;
using System.Net.Sockets;
using EventIO.Net;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Loop;

namespace EventIO.Tests.Net;

/// <summary>The public non-blocking calls: "would block" and errors as values, never exceptions.</summary>
public sealed class SocketCallsTests
{
    [Fact]
    public void Receive_NothingThere_IsWouldBlock_ThenData_ThenEndOfStream()
    {
        using var pair = SocketPair.Create();
        var buffer = new byte[16];

        Assert.Equal(-1, SocketCalls.Receive(pair.Local.SafeHandle, buffer, out SocketError error));
        Assert.Equal(SocketError.WouldBlock, error);

        pair.SendToLocal("abc"u8);
        Assert.Equal(3, SocketCalls.Receive(pair.Local.SafeHandle, buffer, out error));
        Assert.Equal(SocketError.Success, error);

        pair.Remote.Shutdown(SocketShutdown.Send);
        SocketPair.WaitReadable(pair.Local);
        Assert.Equal(0, SocketCalls.Receive(pair.Local.SafeHandle, buffer, out error));
    }

    [Fact]
    public void Send_ToAResetPeer_IsAnErrorValue_NotSigpipe()
    {
        using var pair = SocketPair.Create();
        pair.ResetRemote();
        SocketPair.WaitReadable(pair.Local);

        int n;
        SocketError error;
        do
        {
            n = SocketCalls.Send(pair.Local.SafeHandle, new byte[1024], out error);
        }
        while (n > 0);

        Assert.Equal(-1, n);
        Assert.True(error is SocketError.ConnectionReset or SocketError.Shutdown, $"{error}");
    }

    [Fact]
    public void Accept_NonePending_IsWouldBlock_ThenAConnectedNonBlockingSocket()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(Loopback.AnyPort);
        listener.Listen();
        listener.Blocking = false;

        Assert.Null(SocketCalls.Accept(listener.SafeHandle, out SocketError error));
        Assert.Equal(SocketError.WouldBlock, error);

        using Socket client = Loopback.TcpConnect((IPEndPoint)listener.LocalEndPoint!);
        Eventually.True(() => listener.Poll(0, SelectMode.SelectRead));
        using SafeSocketHandle? handle = SocketCalls.Accept(listener.SafeHandle, out error);
        Assert.NotNull(handle);
        Assert.Equal(SocketError.Success, error);
        Assert.Equal(-1, SocketCalls.Receive(handle, new byte[1], out error)); // non-blocking already
        Assert.Equal(SocketError.WouldBlock, error);
        using var accepted = new Socket(handle);
        Assert.Equal(client.LocalEndPoint, accepted.RemoteEndPoint);
    }

    [Fact]
    public void ReceiveFromAndSendTo_CarryThePeersAddress()
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(Loopback.AnyPort);
        using Socket client = Loopback.UdpClient();
        var remote = new SocketAddress(AddressFamily.InterNetwork);
        var buffer = new byte[16];

        Assert.Equal(-1, SocketCalls.ReceiveFrom(server.SafeHandle, buffer, remote, out SocketError error));
        Assert.Equal(SocketError.WouldBlock, error);

        client.SendTo("ping"u8, server.LocalEndPoint!);
        Eventually.True(() => server.Available > 0);
        Assert.Equal(4, SocketCalls.ReceiveFrom(server.SafeHandle, buffer, remote, out error));
        Assert.Equal(client.LocalEndPoint, new IPEndPoint(IPAddress.Any, 0).Create(remote));
        Assert.Equal(4, SocketCalls.SendTo(server.SafeHandle, "pong"u8, remote, out error));
        var reply = new byte[16];
        Assert.Equal(4, client.Receive(reply));
        Assert.Equal("pong"u8.ToArray(), reply[..4]);
    }

    [Fact]
    public void AClosedHandle_IsMisuse_AndThrows()
    {
        var pair = SocketPair.Create();
        pair.Dispose();

        Assert.Throws<ObjectDisposedException>(() => SocketCalls.Receive(pair.Local.SafeHandle, new byte[1], out _));
    }
}
