using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using EventIO.Tests.Hostile;
using EventIO.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EventIO.Tests.Cli;

/// <summary>
/// A flood of UDP datagrams at <c>eventio serve</c> (a separate process) as fast as one thread can send:
/// the time, echo and Fibonacci servers each get a share. Every datagram is either handled (answered, or its
/// reply dropped and counted) or dropped by the kernel and counted there (the server's full receive queue,
/// or loopback's input backlog) — nothing else;
/// resident memory stays flat; every server answers afterwards and the process exits cleanly.
/// </summary>
/// <remarks>
/// 100,000 datagrams run with the test suite; the 1,000,000-datagram flood is a slow test, run with
/// <c>EVENTIO_SLOW_TESTS=1 dotnet test --filter Category=Slow</c>.
/// </remarks>
[Collection(HostileHeavyDefinition.Name)]
public sealed partial class UdpFloodTests(ITestOutputHelper output)
{
    // Growth allowed between the resident memory after the warm-up and its peak after the flood: nothing
    // is kept per datagram, so this is runtime noise (a GC budget, a pooled array).
    private const long AllowedGrowth = 2L << 20;

    // Datagrams sent before the baseline is taken, so the code, the GC's budgets and the pools have settled.
    private const int WarmUp = 50_000;

    private static readonly string[] s_servers = ["udp-echo", "udp-time", "udp-fib"];

    // Every kind of Fibonacci request: small (answered on the loop), heavy (the pool, or "busy"), bad.
    private static readonly byte[][] s_fibRequests = [.. new[] { "10", "20", "25", "x", "-1", "99999999999999999999", "" }.Select(Encoding.ASCII.GetBytes)];

    [GeneratedRegex(@"(udp-\w+) totals: (\d+) datagrams received, (\d+) replies sent, (\d+) replies dropped, (\d+) receive errors")]
    private static partial Regex TotalsLine();

    [GeneratedRegex(@"udp-fib totals: \d+ invalid requests, \d+ refused as busy, (\d+) unanswered at exit")]
    private static partial Regex FibonacciTotalsLine();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Serve_HundredThousandDatagrams_NothingUnaccounted_MemoryFlat_AllAnswerAfter(int loops) => Flood(100_000, loops);

    [SlowFact]
    [Trait("Category", "Slow")]
    public void Serve_MillionDatagrams_NothingUnaccounted_MemoryFlat_AllAnswerAfter() => Flood(1_000_000, loops: 2);

    private void Flood(int total, int loops)
    {
        using CliProcess serve = CliProcess.StartForMemoryMeasurement("serve", "--loops", $"{loops}", "--time-port", "0", "--echo-port", "0", "--tcp-echo-port", "0", "--fib-port", "0", "--workers", "2");
        Dictionary<string, int> ports = serve.ReadListeners();
        var endPoints = s_servers.ToDictionary(name => name, name => new IPEndPoint(IPAddress.Loopback, ports[name]));
        var sent = s_servers.ToDictionary(name => name, _ => 0L);

        // The flood's own replies go to these sockets, which a second thread drains and counts.
        Socket[] floodSockets = [.. s_servers.Select(_ => Loopback.UdpClient())];
        using var stopDraining = new CancellationTokenSource();
        long repliesReceived = 0;
        var drainer = new Thread(() => repliesReceived = Drain(floodSockets, stopDraining.Token)) { IsBackground = true };
        drainer.Start();
        long backlogDropsBefore = BacklogDrops();
        try
        {
            foreach (string name in s_servers)
            {
                AssertAnswers(serve, endPoints, name, sent);
            }

            byte[] echo = new byte[64];
            var samples = new List<long>();
            for (int i = 0; i < WarmUp + total; i++)
            {
                int which = i % 4 == 3 ? 2 : i % 2; // half echo, a quarter each time and Fibonacci
                string name = s_servers[which];
                ReadOnlySpan<byte> datagram = which switch
                {
                    0 => echo,
                    1 => [],
                    _ => s_fibRequests[i / 4 % s_fibRequests.Length],
                };
                floodSockets[which].SendTo(datagram, SocketFlags.None, endPoints[name]);
                sent[name]++;
                if (i + 1 >= WarmUp && (i + 1 - WarmUp) % (total / 10) == 0)
                {
                    samples.Add(serve.ResidentBytes());
                }
            }

            // Afterwards, each server answers a fresh client.
            foreach (string name in s_servers)
            {
                AssertAnswers(serve, endPoints, name, sent);
            }

            samples.Add(serve.ResidentBytes());
            var kernelDrops = s_servers.ToDictionary(name => name, name => UdpSocketDrops(ports[name]));
            long backlogDrops = BacklogDrops() - backlogDropsBefore;
            stopDraining.Cancel();
            Assert.True(drainer.Join(TestTimeouts.Passing), "the reply drainer did not stop");

            serve.Signal("TERM");
            serve.WaitForExit(TestTimeouts.Scale(TimeSpan.FromSeconds(5)));
            Assert.True(serve.ExitCode == 0, $"exit code {serve.ExitCode}; stderr: {serve.StandardError}");
            Assert.DoesNotContain("fail:", serve.StandardError, StringComparison.Ordinal);

            var totals = TotalsLine().Matches(serve.StandardError).ToDictionary(
                m => m.Groups[1].Value,
                m => (Received: Long(m, 2), Sent: Long(m, 3), Dropped: Long(m, 4), Errors: Long(m, 5)));
            long baseline = samples[0];
            long peak = samples.Max();
            output.WriteLine($"{WarmUp:N0} + {total:N0} datagrams; {repliesReceived:N0} flood replies came back to the client");
            output.WriteLine($"server RSS after the warm-up, then at every 10% and after (MiB): {string.Join(' ', samples.Select(s => (s / 1048576.0).ToString("F1", CultureInfo.InvariantCulture)))}");

            // Every datagram sent was received by its server or dropped by the kernel: at the server socket's
            // full queue (counted per socket), or, when softirq processing falls behind the sender, at
            // loopback's input backlog (counted per CPU for all traffic, so only a bound).
            output.WriteLine($"kernel dropped {backlogDrops:N0} packets (of any socket) at the input backlog");
            long unaccounted = 0;
            foreach (string name in s_servers)
            {
                var t = totals[name];
                output.WriteLine($"{name}: sent {sent[name]:N0}; server received {t.Received:N0}, replied {t.Sent:N0}, dropped {t.Dropped:N0}, receive errors {t.Errors}; kernel dropped {kernelDrops[name]:N0} at the full receive queue");
                long missing = sent[name] - (t.Received + kernelDrops[name]);
                Assert.True(missing >= 0, $"{name}: the server and the kernel account for {-missing} datagrams more than were sent");
                unaccounted += missing;
                Assert.Equal(0, t.Errors);
            }

            Assert.True(unaccounted <= backlogDrops, $"{unaccounted:N0} datagrams neither received nor counted as dropped (backlog drops: {backlogDrops:N0})");

            // Every datagram a server received got a reply or a counted drop, or (Fibonacci) is counted as
            // unanswered at exit: work still queued at shutdown is answered "error: shutting down".
            Match fibTotals = FibonacciTotalsLine().Match(serve.StandardError);
            Assert.True(fibTotals.Success, $"no Fibonacci totals in: {serve.StandardError}");
            long unanswered = Long(fibTotals, 1);
            output.WriteLine($"udp-fib: {unanswered} unanswered at exit");
            foreach (string name in s_servers)
            {
                Assert.Equal(totals[name].Received, totals[name].Sent + totals[name].Dropped + (name == "udp-fib" ? unanswered : 0));
            }
            Assert.True(repliesReceived > 0, "no reply to the flood came back");
            Assert.True(peak - baseline <= AllowedGrowth, $"server RSS grew by {(peak - baseline) / 1048576.0:F1} MiB during the flood (allowed {AllowedGrowth / 1048576.0:F0})");
        }
        finally
        {
            stopDraining.Cancel();
            drainer.Join(TestTimeouts.Passing);
            foreach (Socket socket in floodSockets)
            {
                socket.Dispose();
            }
        }
    }

    // One request from a fresh client, retried while the server may still be working through the flood
    // (UDP may drop a request at a full queue); fails if no right answer comes before the deadline.
    private static void AssertAnswers(CliProcess serve, Dictionary<string, IPEndPoint> endPoints, string name, Dictionary<string, long> sent)
    {
        (byte[] request, Func<string, bool> isRight) = name switch
        {
            "udp-echo" => ("ping"u8.ToArray(), (Func<string, bool>)(r => r == "ping")),
            "udp-time" => ([], r => r.Length == 24),
            _ => ("10"u8.ToArray(), r => r == "89"),
        };
        using Socket client = Loopback.UdpClient();
        client.ReceiveTimeout = 500;
        var buffer = new byte[256];
        Eventually.True(
            () =>
            {
                client.SendTo(request, endPoints[name]);
                sent[name]++;
                try
                {
                    int n = client.Receive(buffer);
                    return isRight(Encoding.ASCII.GetString(buffer, 0, n));
                }
                catch (SocketException ex) when (ex.SocketErrorCode == SocketError.TimedOut)
                {
                    return false;
                }
            },
            because: $"{name} did not answer (server exited: {serve.HasExited})");
    }

    // Reads and counts datagrams on the sockets until cancelled.
    private static long Drain(Socket[] sockets, CancellationToken stop)
    {
        var buffer = new byte[65536];
        long count = 0;
        while (!stop.IsCancellationRequested)
        {
            List<Socket> readable = [.. sockets];
            Socket.Select(readable, null, null, TimeSpan.FromMilliseconds(50));
            foreach (Socket socket in readable)
            {
                while (socket.Available > 0)
                {
                    socket.Receive(buffer);
                    count++;
                }
            }
        }

        return count;
    }

    // The kernel's per-socket count of datagrams dropped because the receive queue was full (the last
    // column of /proc/net/udp), over the sockets bound to 127.0.0.1:port (one per loop).
    private static long UdpSocketDrops(int port)
    {
        string local = $"0100007F:{port:X4}";
        string[] lines = [.. File.ReadLines("/proc/net/udp").Skip(1)
            .Select(l => l.Trim())
            .Where(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1] == local)];
        Assert.NotEmpty(lines);
        return lines.Sum(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1], CultureInfo.InvariantCulture));
    }

    // Packets dropped because a CPU's input backlog was full (second column of /proc/net/softnet_stat, hex),
    // summed over the CPUs.
    private static long BacklogDrops() => File.ReadLines("/proc/net/softnet_stat")
        .Sum(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture));

    private static long Long(Match m, int group) => long.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture);
}
