using System.Net.Sockets;
using EventIO.Diagnostics;
using EventIO.Net;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Servers;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace EventIO.Tests.Metrics;

/// <summary>The TCP instruments move as the traffic says: connections opened and closed, how they ended, rejections, idle closes, queued bytes.</summary>
public sealed class TcpMetricsTests
{
    private static readonly (string, string) s_echo = (EventIOMetrics.ServerTag, "echo");

    [Fact]
    public void ConnectionsOpenedAndClosed_MoveActiveAccepted_AndRecordDurations_WithErrorTypeForAReset()
    {
        using var metrics = new EventIOMetrics();
        using var loop = new LoopThread();
        metrics.Observe(loop.Loop, "loop-0");
        TcpServer server = ServerTestSupport.StartTcpEcho(loop);
        metrics.Observe(server, "echo");
        using var durations = new MetricCollector<double>(metrics.Meter, "eventio.tcp.connection.duration");

        Socket[] clients = [.. Enumerable.Range(0, 3).Select(_ => Loopback.TcpConnect(server.LocalEndPoint))];
        foreach (Socket client in clients)
        {
            client.Send([1]);
            Assert.Equal([1], Loopback.ReceiveExactly(client, 1)); // accepted and served
        }

        Assert.Equal(3, MetricsProbe.Read(metrics, "eventio.tcp.active_connections", s_echo, (EventIOMetrics.LoopTag, "loop-0")));
        Assert.Equal(3, MetricsProbe.Read(metrics, "eventio.tcp.accepted_connections", s_echo));

        clients[0].Shutdown(SocketShutdown.Send); // a clean close
        ServerTestSupport.AssertEndOfStream(clients[0]);
        clients[1].LingerState = new LingerOption(true, 0); // a reset
        clients[1].Close();
        Eventually.True(() => MetricsProbe.Read(metrics, "eventio.tcp.active_connections", s_echo) == 1);
        Assert.Equal(3, MetricsProbe.Read(metrics, "eventio.tcp.accepted_connections", s_echo));

        IReadOnlyList<CollectedMeasurement<double>> closed = durations.GetMeasurementSnapshot();
        Assert.Equal(2, closed.Count);
        Assert.All(closed, m => Assert.InRange(m.Value, 0, TestTimeouts.Passing.TotalSeconds));
        Assert.All(closed, m => Assert.Equal("echo", m.Tags[EventIOMetrics.ServerTag]));
        Assert.Single(closed, m => !m.Tags.ContainsKey(EventIOMetrics.ErrorTypeTag));
        Assert.Single(closed, m => m.Tags.TryGetValue(EventIOMetrics.ErrorTypeTag, out object? e) && (string?)e == "connection_reset");

        clients[0].Dispose();
        clients[2].Dispose();
        Eventually.True(() => MetricsProbe.Read(metrics, "eventio.tcp.active_connections", s_echo) == 0);
    }

    [Fact]
    public void ClientsBeyondTheCap_AreCountedRejectedForMaxConnections()
    {
        using var metrics = new EventIOMetrics();
        using var loop = new LoopThread();
        TcpServer server = ServerTestSupport.StartTcpEcho(loop, options: new TcpServerOptions { MaxConnections = 1 });
        metrics.Observe(server, "echo");
        using Socket first = Loopback.TcpConnect(server.LocalEndPoint);
        first.Send([1]);
        Assert.Equal([1], Loopback.ReceiveExactly(first, 1));

        for (int i = 0; i < 2; i++)
        {
            using Socket extra = Loopback.TcpConnect(server.LocalEndPoint);
            ServerTestSupport.AssertEndOfStream(extra); // accepted and closed at once
        }

        Assert.Equal(2, MetricsProbe.Read(metrics, "eventio.tcp.rejected_connections", s_echo, (EventIOMetrics.ReasonTag, "max_connections")));
        Assert.Equal(0, MetricsProbe.Read(metrics, "eventio.tcp.rejected_connections", s_echo, (EventIOMetrics.ReasonTag, "out_of_descriptors")));
        Assert.Equal(1, MetricsProbe.Read(metrics, "eventio.tcp.accepted_connections", s_echo));
    }

    [Fact]
    public void AnIdlePeer_IsCountedAsAnIdleTimeout_AndItsDurationCarriesTheErrorType()
    {
        using var metrics = new EventIOMetrics();
        using var loop = new LoopThread();
        TcpServer server = ServerTestSupport.StartTcpEcho(loop, options: new TcpServerOptions { IdleTimeout = TimeSpan.FromMilliseconds(100) });
        metrics.Observe(server, "echo");
        using var durations = new MetricCollector<double>(metrics.Meter, "eventio.tcp.connection.duration");
        using Socket idle = Loopback.TcpConnect(server.LocalEndPoint);

        ServerTestSupport.AssertEndOfStream(idle); // closed by the server after 100 ms of silence
        Eventually.True(() => MetricsProbe.Read(metrics, "eventio.tcp.idle_timeouts", s_echo) == 1);
        Eventually.True(() => durations.GetMeasurementSnapshot().Count == 1);
        CollectedMeasurement<double> closed = durations.LastMeasurement!;
        Assert.Equal("idle_timeout", closed.Tags[EventIOMetrics.ErrorTypeTag]);
        Assert.True(closed.Value >= 0.09, $"lived {closed.Value:F3} s");
    }

    [Fact]
    public void APeerThatDoesNotRead_ShowsQueuedBytesAndOneBackPressurePause_ThenDrainsToZero()
    {
        const int Total = 4 * 1024 * 1024;
        using var metrics = new EventIOMetrics();
        using var loop = new LoopThread();
        TcpServer server = ServerTestSupport.StartTcpEcho(loop, socket => new Firehose(socket, Total));
        metrics.Observe(server, "echo");
        using Socket client = ServerTestSupport.NewTcpClient();
        client.ReceiveBufferSize = 4096; // a small window: the kernel takes little, the rest queues in the server
        client.Connect(server.LocalEndPoint);

        Eventually.True(() => MetricsProbe.Read(metrics, "eventio.tcp.queued_bytes", s_echo) > Firehose.Options.HighWatermark);
        Assert.Equal(1, MetricsProbe.Read(metrics, "eventio.tcp.backpressure_pauses", s_echo));

        Loopback.ReceiveExactly(client, Total);
        Eventually.True(() => MetricsProbe.Read(metrics, "eventio.tcp.queued_bytes", s_echo) == 0);
        Assert.Equal(1, MetricsProbe.Read(metrics, "eventio.tcp.backpressure_pauses", s_echo));
    }

    /// <summary>Sends <c>total</c> bytes as soon as it opens, in 64 KiB pieces, whether or not the peer reads.</summary>
    private sealed class Firehose(SafeSocketHandle socket, int total) : TcpConnection(socket, Options)
    {
        public static readonly TcpConnectionOptions Options = new() { HighWatermark = 64 * 1024, LowWatermark = 16 * 1024, MaxQueuedBytes = 16 * 1024 * 1024 };

        protected override void OnOpened()
        {
            byte[] piece = new byte[64 * 1024];
            for (int sent = 0; sent < total; sent += piece.Length)
            {
                Assert.True(Send(piece));
            }
        }

        protected override void OnReceived(ReadOnlySpan<byte> data)
        {
        }
    }
}
