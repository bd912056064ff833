using System.Net;
using System.Net.Sockets;
using System.Text;
using EventIO.Diagnostics;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Loop;
using EventIO.Work;

namespace EventIO.Tests.Metrics;

/// <summary>
/// The recipe's host observes everything it runs: the Fibonacci outcomes (busy replies under pool pressure,
/// invalid by reason, inline), the pool, and the one-line summary <c>serve --metrics-interval</c> logs.
/// </summary>
public sealed class RecipeHostMetricsTests
{
    private static readonly (string, string) s_fib = (EventIOMetrics.ServerTag, "udp-fib");

    [Fact]
    public void BusyRepliesUnderPoolPressure_AreCountedAsTheClientSawThem()
    {
        const int Heavy = 10;
        using var host = new RecipeHost(new RecipeHostOptions
        {
            Servers = ["udp-fib"],
            Ports = new Dictionary<string, int> { ["udp-fib"] = 0 },
            Workers = 1,
            WorkQueueCapacity = 1,
            WorkerPriority = WorkerPriority.Normal,
        });
        var run = new Thread(() => host.Run()) { IsBackground = true };
        run.Start();
        try
        {
            using Socket client = Loopback.UdpClient();
            IPEndPoint fib = host.Listeners[0].EndPoint;
            Assert.Equal("8", Loopback.UdpRequest(client, fib, "5"u8));
            Assert.StartsWith("error: not a number", Loopback.UdpRequest(client, fib, "abc"u8), StringComparison.Ordinal);
            Assert.StartsWith("error: n must be at most", Loopback.UdpRequest(client, fib, "99"u8), StringComparison.Ordinal);

            // fib(40) keeps the only worker busy for about a second: one runs, one waits, the rest are busy.
            client.SendTo("40"u8, fib);
            Eventually.True(() => MetricsProbe.Read(host.Metrics, "eventio.worker_pool.busy_workers") == 1);
            for (int i = 1; i < Heavy; i++)
            {
                client.SendTo("40"u8, fib);
            }

            int busy = 0;
            var buffer = new byte[64];
            for (int i = 0; i < Heavy - 2; i++)
            {
                int n = client.Receive(buffer);
                busy += Encoding.ASCII.GetString(buffer, 0, n) == "error: busy" ? 1 : 0;
            }

            Assert.Equal(Heavy - 2, busy);
            EventIOMetrics metrics = host.Metrics;
            Assert.Equal(busy, MetricsProbe.Read(metrics, "eventio.fib.requests", s_fib, ("eventio.outcome", "busy")));
            Assert.Equal(2, MetricsProbe.Read(metrics, "eventio.fib.requests", s_fib, ("eventio.outcome", "pool")));
            Assert.Equal(1, MetricsProbe.Read(metrics, "eventio.fib.requests", s_fib, ("eventio.outcome", "inline"), (EventIOMetrics.LoopTag, "loop-0")));
            Assert.Equal(1, MetricsProbe.Read(metrics, "eventio.fib.requests", s_fib, ("eventio.outcome", "invalid"), (EventIOMetrics.ReasonTag, "not_a_number")));
            Assert.Equal(1, MetricsProbe.Read(metrics, "eventio.fib.requests", s_fib, ("eventio.outcome", "invalid"), (EventIOMetrics.ReasonTag, "too_large")));
            Assert.Equal(2, MetricsProbe.Read(metrics, "eventio.fib.requests", s_fib, ("eventio.outcome", "invalid")));
            Assert.Equal(2, MetricsProbe.Read(metrics, "eventio.fib.pending_requests", s_fib));
            Assert.Equal(1, MetricsProbe.Read(metrics, "eventio.worker_pool.queue.length", (EventIOMetrics.WorkerPoolTag, "workers")));
            Assert.Equal(1, MetricsProbe.Read(metrics, "eventio.worker_pool.busy_workers", (EventIOMetrics.WorkerPoolTag, "workers")));
            Assert.Equal(Heavy + 3, MetricsProbe.Read(metrics, "eventio.udp.received_datagrams", s_fib));
        }
        finally
        {
            host.RequestShutdown();
            Assert.True(run.Join(TestTimeouts.Passing));
        }
    }

    [Fact]
    public void TheSummaryLine_SaysWhatTheMeterSays()
    {
        var logger = new CollectingLogger();
        using var host = new RecipeHost(
            new RecipeHostOptions
            {
                Servers = ["tcp-echo", "udp-echo"],
                Ports = new Dictionary<string, int> { ["tcp-echo"] = 0, ["udp-echo"] = 0 },
                MetricsInterval = TimeSpan.FromHours(1), // reported on demand below
            },
            logger);
        var run = new Thread(() => host.Run()) { IsBackground = true };
        run.Start();
        try
        {
            using Socket tcp = Loopback.TcpConnect(host.Listeners.Single(l => l.Name == "tcp-echo").EndPoint);
            tcp.Send("hi"u8);
            Assert.Equal("hi"u8.ToArray(), Loopback.ReceiveExactly(tcp, 2));
            using Socket udp = Loopback.UdpClient();
            for (int i = 0; i < 5; i++)
            {
                Assert.Equal("x", Loopback.UdpRequest(udp, host.Listeners.Single(l => l.Name == "udp-echo").EndPoint, "x"u8));
            }

            string? line = null;
            Eventually.True(() => (line = host.ReportMetricsNow()) is not null);
            Assert.StartsWith("metrics: busy loop-0 ", line, StringComparison.Ordinal);
            Assert.Contains("tcp 1 open, 1 accepted, 0 closed, 0 rejected, 0 B queued;", line, StringComparison.Ordinal);
            Assert.Contains("replies/s, 0 replies dropped, 0 dropped by the kernel", line, StringComparison.Ordinal);
            Assert.Contains(logger.Entries, e => e.EventId == 2003 && e.Message == line);

            line = host.ReportMetricsNow(); // a second reading: deltas since the first
            Assert.Contains("tcp 1 open, 0 accepted", line, StringComparison.Ordinal);
        }
        finally
        {
            host.RequestShutdown();
            Assert.True(run.Join(TestTimeouts.Passing));
        }
    }
}
