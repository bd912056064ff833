using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EventIO.Diagnostics;
using EventIO.Net;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Metrics;

namespace EventIO.Tests.Servers;

/// <summary><c>--udp-rate-limit</c> end to end: a flooding source is cut to its rate and counted; another source is served in full.</summary>
public sealed class UdpRateLimitTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(32)]
    public void AFloodingSource_IsLimited_AndAnotherIsServedInFull(int batchSize)
    {
        const int Rate = 10, Flood = 100, Polite = 10; // 100 small datagrams fit a default receive buffer: none is lost to the kernel
        using var metrics = new EventIOMetrics();
        using var loop = new LoopThread();
        UdpEchoServer server = ServerTestSupport.StartUdpEcho(loop, new UdpServerOptions { BatchSize = batchSize, RateLimit = Rate });
        metrics.Observe(server, "echo");
        using Socket flooder = Bound("127.0.0.2");
        using Socket polite = Bound("127.0.0.3");
        var elapsed = Stopwatch.StartNew();
        for (int i = 0; i < Flood; i++)
        {
            flooder.SendTo(BitConverter.GetBytes(i), server.LocalEndPoint);
        }

        for (int i = 0; i < Polite; i++)
        {
            Assert.Equal(BitConverter.GetBytes(1000 + i), ServerTestSupport.Exchange(polite, server.LocalEndPoint, BitConverter.GetBytes(1000 + i)));
        }

        Eventually.True(() => loop.Invoke(() => server.RepliesSent + server.RateLimitedDatagrams) == Flood + Polite, because: "every datagram is answered or limited");
        double seconds = elapsed.Elapsed.TotalSeconds;
        Assert.Equal(Flood + Polite, loop.Invoke(() => server.DatagramsReceived));
        Assert.Equal(0, loop.Invoke(() => server.RepliesDropped));

        // The flooder got its burst (one second's worth) and the rate since, nothing more; on loopback its
        // replies are on its socket as soon as the server has sent them.
        int answered = (int)loop.Invoke(() => server.RepliesSent) - Polite;
        Assert.InRange(answered, Rate, Rate + (int)Math.Ceiling(Rate * seconds) + 1);
        var reply = new byte[64];
        for (int i = 0; i < answered; i++)
        {
            Assert.Equal(4, flooder.Receive(reply));
        }

        Assert.Equal(0, flooder.Available);
        long limited = loop.Invoke(() => server.RateLimitedDatagrams);
        Assert.Equal(Flood - answered, limited);
        Assert.Equal(limited, MetricsProbe.Read(metrics, "eventio.udp.rate_limited_datagrams", (EventIOMetrics.ServerTag, "echo")));
        Assert.Equal(2, loop.Invoke(() => server.RateLimitedSources));
    }

    [Fact]
    public void Off_ByDefault()
    {
        using var loop = new LoopThread();
        UdpEchoServer server = ServerTestSupport.StartUdpEcho(loop);
        using Socket client = Bound("127.0.0.2");
        for (int i = 0; i < 100; i++)
        {
            ServerTestSupport.Exchange(client, server.LocalEndPoint, BitConverter.GetBytes(i));
        }

        Assert.Equal(0, loop.Invoke(() => server.RateLimitedDatagrams));
        Assert.Equal(0, loop.Invoke(() => server.RateLimitedSources));
    }

    private static Socket Bound(string address)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Parse(address), 0));
        socket.ReceiveTimeout = (int)TestTimeouts.Passing.TotalMilliseconds;
        return socket;
    }
}
