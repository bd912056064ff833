using System.Net;
using System.Net.Sockets;
using EventIO.Diagnostics;
using EventIO.Net;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Servers;

namespace EventIO.Tests.Metrics;

/// <summary>The UDP instruments move as the traffic says: datagrams in, replies out, replies refused, and datagrams the kernel dropped under a flood.</summary>
public sealed class UdpMetricsTests
{
    private static readonly (string, string) s_echo = (EventIOMetrics.ServerTag, "echo");

    [Theory]
    [InlineData(1)]
    [InlineData(32)]
    public void EachDatagram_IsCountedReceived_AndEachReplySent(int batchSize)
    {
        using var metrics = new EventIOMetrics();
        using var loop = new LoopThread();
        metrics.Observe(loop.Loop, "loop-0");
        UdpEchoServer server = ServerTestSupport.StartUdpEcho(loop, new UdpServerOptions { BatchSize = batchSize });
        metrics.Observe(server, "echo");
        using Socket client = Loopback.UdpClient();
        for (int i = 0; i < 50; i++)
        {
            ServerTestSupport.Exchange(client, server.LocalEndPoint, BitConverter.GetBytes(i));
        }

        Assert.Equal(50, MetricsProbe.Read(metrics, "eventio.udp.received_datagrams", s_echo, (EventIOMetrics.LoopTag, "loop-0")));
        Eventually.True(() => MetricsProbe.Read(metrics, "eventio.udp.sent_replies", s_echo) == 50); // a batch's replies are counted once sendmmsg returns
        Assert.Equal(0, MetricsProbe.Read(metrics, "eventio.udp.dropped_replies", s_echo));
        Assert.Equal(0, MetricsProbe.Read(metrics, "eventio.udp.receive_errors", s_echo));
        Assert.Equal(0, MetricsProbe.Read(metrics, "eventio.udp.dropped_datagrams", s_echo));
    }

    [Fact]
    public void AFloodWhileTheLoopIsHeld_IsReceivedOrCountedDroppedByTheKernel_EveryDatagram()
    {
        const int Flood = 2000;
        using var metrics = new EventIOMetrics();
        using var loop = new LoopThread();
        UdpEchoServer server = ServerTestSupport.StartUdpEcho(loop, new UdpServerOptions { ReceiveBufferSize = 8192 });
        metrics.Observe(server, "echo");
        using Socket client = Loopback.UdpClient();
        using var gate = new ManualResetEventSlim();
        using var held = new ManualResetEventSlim();
        loop.Loop.Post(() =>
        {
            held.Set();
            gate.Wait(TestTimeouts.Passing); // the server reads nothing meanwhile
        });
        Assert.True(held.Wait(TestTimeouts.Passing));

        byte[] datagram = new byte[64];
        for (int i = 0; i < Flood; i++)
        {
            client.SendTo(datagram, server.LocalEndPoint);
        }

        gate.Set();
        Eventually.True(() => MetricsProbe.Read(metrics, "eventio.udp.received_datagrams", s_echo) + MetricsProbe.Read(metrics, "eventio.udp.dropped_datagrams", s_echo) == Flood);
        long dropped = MetricsProbe.Read(metrics, "eventio.udp.dropped_datagrams", s_echo);
        Assert.True(dropped > Flood / 2, $"only {dropped} of {Flood} dropped with a 16 KiB receive buffer");
        Eventually.True(() => MetricsProbe.Read(metrics, "eventio.udp.sent_replies", s_echo) == Flood - dropped, because: "every received datagram answered"); // counted once sendmmsg returns, after the receive
    }

    [Theory]
    [InlineData(1)]
    [InlineData(32)]
    public void RepliesTheKernelRefuses_AreCountedDroppedAsRefused(int batchSize)
    {
        using var metrics = new EventIOMetrics();
        using var loop = new LoopThread();
        BroadcastingEcho server = ServerTestSupport.Start(loop, _ => new BroadcastingEcho(Loopback.AnyPort, new UdpServerOptions { BatchSize = batchSize }));
        metrics.Observe(server, "echo");
        using Socket client = Loopback.UdpClient();
        for (int i = 0; i < 20; i++)
        {
            ServerTestSupport.Exchange(client, server.LocalEndPoint, BitConverter.GetBytes(i));
        }

        Eventually.True(() => MetricsProbe.Read(metrics, "eventio.udp.dropped_replies", s_echo, (EventIOMetrics.ReasonTag, "refused")) == 20); // counted once the batch is flushed
        Assert.Equal(0, MetricsProbe.Read(metrics, "eventio.udp.dropped_replies", s_echo, (EventIOMetrics.ReasonTag, "would_block")));
        Assert.Equal(0, MetricsProbe.Read(metrics, "eventio.udp.dropped_replies", s_echo, (EventIOMetrics.ReasonTag, "closed")));
        Eventually.True(() => MetricsProbe.Read(metrics, "eventio.udp.sent_replies", s_echo) == 20); // the last echo is counted just after the client can see it
    }

    /// <summary>Echoes each datagram after first sending a copy to the broadcast address without SO_BROADCAST (EACCES).</summary>
    private sealed class BroadcastingEcho(IPEndPoint endPoint, UdpServerOptions options) : UdpServer(endPoint, options)
    {
        private static readonly SocketAddress s_broadcast = new IPEndPoint(IPAddress.Broadcast, 9).Serialize();

        protected override void OnDatagram(ReadOnlySpan<byte> datagram, SocketAddress remote)
        {
            SendTo(datagram, s_broadcast);
            SendTo(datagram, remote);
        }
    }
}
