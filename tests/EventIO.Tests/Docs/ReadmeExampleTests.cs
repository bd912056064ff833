using System.Net;
using System.Net.Sockets;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Docs;

public sealed class ReadmeExampleTests
{
    [Fact]
    public void ShoutServer_FromTheReadme_AnswersInUpperCase()
    {
        using var loop = new LoopThread();
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(Loopback.AnyPort);
        socket.Blocking = false;
        loop.Invoke(() => loop.Loop.Add(new ShoutServer(socket)));

        using Socket client = Loopback.UdpClient();
        Assert.Equal("HELLO, LOOP", Loopback.UdpRequest(client, (IPEndPoint)socket.LocalEndPoint!, "hello, loop"u8));
    }
}
