using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EventIO.Net;
using EventIO.Tests.Hostile;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Servers;
using Xunit.Abstractions;

namespace EventIO.Tests.Cli;

/// <summary>
/// A client that writes 100 MiB to the TCP echo server and never reads: <c>eventio serve</c>, a separate
/// process, stops reading from it at the connection's watermark, so its resident memory grows by little
/// more than the watermark; another client's echoes stay fast meanwhile; the client's reset is harmless.
/// </summary>
[Collection(HostileHeavyDefinition.Name)]
public sealed class NeverReadingClientTests(ITestOutputHelper output)
{
    private const long Attempted = 100L << 20;

    // What the server may hold for one connection (TcpConnection's high watermark) plus slack for the
    // runtime's own noise (GC bookkeeping, a pooled segment or two). Without the watermark the server
    // would read and queue every byte: tens of MiB.
    private static readonly long s_allowedGrowth = TcpConnectionOptions.Default.HighWatermark + (4L << 20);

    // No progress for this long means the server stopped taking bytes (the kernel buffers are full).
    private static readonly TimeSpan s_stallWindow = TimeSpan.FromSeconds(1);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Serve_ClientWritingHundredMiBWithoutReading_IsHeldAtTheWatermark_OthersStayFast_ResetIsHarmless(int loops)
    {
        using CliProcess serve = CliProcess.StartForMemoryMeasurement("serve", "--loops", $"{loops}", "--only", "tcp-echo", "--tcp-echo-port", "0");
        var server = new IPEndPoint(IPAddress.Loopback, serve.ReadListeners(expected: 1)["tcp-echo"]);
        using Socket other = Loopback.TcpConnect(server);

        // Warm up every path the hog takes (large reads, queued writes, the watermark pause and resume), so
        // their code and pooled buffers are in the baseline: a smaller hog that finally reads everything.
        using (Socket warmUp = Loopback.TcpConnect(server))
        {
            byte[] data = ServerTestSupport.RandomBytes(8 << 20, 1);
            var writer = new Thread(() => warmUp.Send(data)) { IsBackground = true };
            writer.Start();
            ServerTestSupport.AssertSameBytes(data, Loopback.ReceiveExactly(warmUp, data.Length));
            Assert.True(writer.Join(TestTimeouts.Passing), "the warm-up writer did not finish");
        }

        EchoLatencies(other, 50);
        long baseline = serve.ResidentBytes();

        using Socket hog = Loopback.TcpConnect(server);
        hog.Blocking = false;
        byte[] chunk = ServerTestSupport.RandomBytes(256 << 10, 2);
        long written = 0, peak = baseline;
        var sinceProgress = Stopwatch.StartNew();
        double cpuAtProgress = serve.CpuSeconds();
        var deadline = Stopwatch.StartNew();
        while (written < Attempted && sinceProgress.Elapsed < s_stallWindow)
        {
            Assert.True(deadline.Elapsed < TestTimeouts.Passing, $"the hog neither finished nor stalled: {written:N0} bytes written");
            int n = hog.Send(chunk, 0, (int)Math.Min(chunk.Length, Attempted - written), SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock)
            {
                HostileSupport.WaitForProgress(hog, wantWrite: true);
            }
            else
            {
                Assert.Equal(SocketError.Success, error);
                written += n;
                sinceProgress.Restart();
                cpuAtProgress = serve.CpuSeconds();
            }

            peak = Math.Max(peak, serve.ResidentBytes());
        }

        // A measurement over the stall window that just ended, not a wait: nothing moved, so the server
        // must have been idle (no spinning on a peer that cannot take more).
        double idleShare = (serve.CpuSeconds() - cpuAtProgress) / sinceProgress.Elapsed.TotalSeconds;
        TimeSpan[] latencies = EchoLatencies(other, 200);
        peak = Math.Max(peak, serve.ResidentBytes());

        output.WriteLine($"hog wrote {written / 1048576.0:F1} MiB of {Attempted >> 20} MiB before the server stopped reading");
        output.WriteLine($"server RSS: baseline {baseline / 1048576.0:F1} MiB, peak {peak / 1048576.0:F1} MiB (+{(peak - baseline) / 1048576.0:F2} MiB; allowed +{s_allowedGrowth / 1048576.0:F1})");
        output.WriteLine($"server CPU while the hog was stalled: {idleShare:P1}");
        output.WriteLine($"other client's echo while the hog is stalled: p50 {Percentile(latencies, 0.5).TotalMilliseconds:F3} ms, max {latencies[^1].TotalMilliseconds:F3} ms");

        Assert.True(written < Attempted, "the server read all 100 MiB from a client that never reads: nothing throttled it");
        Assert.True(peak - baseline <= s_allowedGrowth, $"server RSS grew by {(peak - baseline) / 1048576.0:F1} MiB (allowed {s_allowedGrowth / 1048576.0:F1})");
        Assert.True(idleShare < 0.3, $"server used {idleShare:P0} of a CPU while the hog was stalled (busy loop?)");
        Assert.True(latencies[^1] < TestTimeouts.Scale(TimeSpan.FromSeconds(1)), $"an echo took {latencies[^1].TotalMilliseconds:F0} ms while the hog was stalled");

        HostileSupport.Reset(hog);

        // The reset costs the server nothing: the other client and a new one are served, and it exits cleanly.
        EchoLatencies(other, 10);
        using (Socket fresh = Loopback.TcpConnect(server))
        {
            EchoLatencies(fresh, 10);
        }

        serve.Signal("TERM");
        serve.WaitForExit(TestTimeouts.Scale(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, serve.ExitCode);
        Assert.DoesNotContain("fail:", serve.StandardError, StringComparison.Ordinal);
        Assert.Contains("tcp-echo totals: 4 connections accepted, 0 turned away", serve.StandardError, StringComparison.Ordinal);
    }

    // Round trips of 64 bytes, each checked; returns the latencies sorted.
    private static TimeSpan[] EchoLatencies(Socket client, int count)
    {
        byte[] payload = ServerTestSupport.RandomBytes(64, count);
        var latencies = new TimeSpan[count];
        for (int i = 0; i < count; i++)
        {
            long start = Stopwatch.GetTimestamp();
            client.Send(payload);
            ServerTestSupport.AssertSameBytes(payload, Loopback.ReceiveExactly(client, payload.Length));
            latencies[i] = Stopwatch.GetElapsedTime(start);
        }

        Array.Sort(latencies);
        return latencies;
    }

    private static TimeSpan Percentile(TimeSpan[] sorted, double q) => sorted[(int)Math.Min(sorted.Length - 1, q * sorted.Length)];
}
