using System.Net;
using System.Net.Sockets;
using EventIO.Diagnostics;
using EventIO.Net;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Metrics;

namespace EventIO.Tests.Servers;

/// <summary><c>--max-connections-per-ip</c>: one address cannot hold more than its share; others are served; a slot freed is reusable.</summary>
public sealed class TcpPerAddressLimitTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void EachAddress_GetsItsMaximum_AndNoMore(int loops)
    {
        using var metrics = new EventIOMetrics();
        using var loop = new LoopThread(loops: loops);
        TcpServer server = ServerTestSupport.StartTcpEcho(loop, options: new TcpServerOptions { MaxConnectionsPerAddress = 2 });
        metrics.Observe(server, "echo");
        using Socket a1 = Connect("127.0.0.2", server.LocalEndPoint);
        using Socket a2 = Connect("127.0.0.2", server.LocalEndPoint);
        using Socket b1 = Connect("127.0.0.3", server.LocalEndPoint);
        using Socket b2 = Connect("127.0.0.3", server.LocalEndPoint);
        Eventually.True(() => server.ConnectionCount == 4);

        using (Socket a3 = Connect("127.0.0.2", server.LocalEndPoint))
        {
            Assert.Equal(0, a3.Receive(new byte[1])); // closed by the server at once
        }

        using (Socket b3 = Connect("127.0.0.3", server.LocalEndPoint))
        {
            Assert.Equal(0, b3.Receive(new byte[1]));
        }

        using Socket c1 = Connect("127.0.0.4", server.LocalEndPoint); // another address: served
        foreach (Socket s in new[] { a1, a2, b1, b2, c1 })
        {
            s.Send("served"u8);
            Assert.Equal("served"u8.ToArray(), Loopback.ReceiveExactly(s, 6));
        }

        Assert.Equal(2, loop.Invoke(() => server.RejectedCount));
        Assert.Equal(2, MetricsProbe.Read(metrics, "eventio.tcp.rejected_connections", (EventIOMetrics.ReasonTag, "max_connections_per_ip")));
        Assert.Equal(0, MetricsProbe.Read(metrics, "eventio.tcp.rejected_connections", (EventIOMetrics.ReasonTag, "max_connections")));

        // A slot freed on one address is that address's again.
        a1.Close();
        Eventually.True(() => server.ConnectionCount == 4);
        using Socket a4 = Connect("127.0.0.2", server.LocalEndPoint);
        a4.Send("again"u8);
        Assert.Equal("again"u8.ToArray(), Loopback.ReceiveExactly(a4, 5));
    }

    [Fact]
    public void TheSharedLimit_HoldsAcrossServers_AndForgetsAddressesWithNothingOpen()
    {
        var shared = new AddressConnectionLimit(1);
        var options = new TcpServerOptions { AddressLimit = shared };
        using var loop = new LoopThread();
        TcpServer first = ServerTestSupport.StartTcpEcho(loop, options: options);
        TcpServer second = ServerTestSupport.StartTcpEcho(loop, options: options);
        using (Socket a = Connect("127.0.0.2", first.LocalEndPoint))
        {
            Eventually.True(() => first.ConnectionCount == 1);
            using Socket refused = Connect("127.0.0.2", second.LocalEndPoint);
            Assert.Equal(0, refused.Receive(new byte[1]));
            Assert.Equal(1, shared.AddressCount);
        }

        Eventually.True(() => first.ConnectionCount == 0 && shared.AddressCount == 0);
        using Socket again = Connect("127.0.0.2", second.LocalEndPoint);
        again.Send("x"u8);
        Assert.Equal("x"u8.ToArray(), Loopback.ReceiveExactly(again, 1));
    }

    private static Socket Connect(string from, IPEndPoint server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            ReceiveTimeout = (int)TestTimeouts.Passing.TotalMilliseconds,
            SendTimeout = (int)TestTimeouts.Passing.TotalMilliseconds,
            NoDelay = true,
        };
        socket.Bind(new IPEndPoint(IPAddress.Parse(from), 0));
        socket.Connect(server);
        return socket;
    }
}
