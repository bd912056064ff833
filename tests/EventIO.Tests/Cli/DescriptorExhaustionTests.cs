using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Cli;

/// <summary>
/// Out of descriptors (RLIMIT_NOFILE 256, 400 clients): no busy loop, clients beyond the limit are closed
/// at once instead of hanging, the process keeps descriptors free for the runtime, UDP keeps answering, one
/// warning per episode, and accepting resumes.
/// A separate process, since the limit is process-wide.
/// </summary>
public sealed class DescriptorExhaustionTests
{
    // With two loops, each has its own listener (SO_REUSEPORT) and its own reserve descriptor.
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Serve_AtTheDescriptorLimit_ShedsClientsPromptly_StaysIdle_AndRecovers(int loops)
    {
        using CliProcess serve = CliProcess.Start(256, "serve", "--loops", $"{loops}", "--time-port", "0", "--echo-port", "0", "--tcp-echo-port", "0", "--fib-port", "0", "--workers", "2");
        Dictionary<string, int> ports = serve.ReadListeners();

        var tcp = new IPEndPoint(IPAddress.Loopback, ports["tcp-echo"]);
        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < 400; i++)
            {
                clients.Add(Loopback.TcpConnect(tcp)); // the backlog (512) takes them all
            }

            int served = 0, shed = 0;
            foreach (Socket client in clients)
            {
                try
                {
                    client.Send([7]);
                    byte[] reply = new byte[1];
                    if (client.Receive(reply) == 1)
                    {
                        served++;
                    }
                    else
                    {
                        shed++;
                    }
                }
                catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted)
                {
                    shed++; // closed by the server before it read our byte: a reset, also prompt
                }

                // A SocketException with TimedOut (the Receive deadline) would be a client left hanging: it fails the test.
            }

            Assert.True(served > 50, $"only {served} clients were served");
            Assert.True(shed > 0, "no client was turned away: the limit was never reached");
            Assert.Equal(400, served + shed);

            // The servers keep descriptors free for the runtime (TcpServerOptions.DescriptorHeadroom, 64): a
            // table filled to the last descriptor made the runtime fail to start a thread or read /proc
            // (an OutOfMemoryException in whichever code asked; once, a crash).
            int open = Directory.GetFiles($"/proc/{serve.Id}/fd").Length;
            Assert.True(256 - open >= 48, $"{open} of 256 descriptors open at the limit: the headroom was not kept");

            // Still at the limit (the served clients hold their descriptors): for one second the server must
            // neither die nor spin. The second is a measurement window, spent waiting on the process itself.
            double cpuBefore = serve.CpuSeconds();
            var window = Stopwatch.StartNew();
            Assert.False(serve.ExitsWithin(TimeSpan.FromSeconds(1)), $"the server exited while out of descriptors: {serve.StandardError}");
            double cpuShare = (serve.CpuSeconds() - cpuBefore) / window.Elapsed.TotalSeconds;
            Assert.True(cpuShare < 0.3, $"server used {cpuShare:P0} of a CPU while out of descriptors (busy loop?)");

            using (Socket udp = Loopback.UdpClient())
            {
                Assert.Equal("still here", Loopback.UdpRequest(udp, new IPEndPoint(IPAddress.Loopback, ports["udp-echo"]), "still here"u8));

                // Work on the pool at the limit: the workers were started with the server, before any
                // descriptor could run out, so a request needing them is answered like any other.
                Assert.Equal("317811", Loopback.UdpRequest(udp, new IPEndPoint(IPAddress.Loopback, ports["udp-fib"]), "27"u8));
            }
        }
        finally
        {
            foreach (Socket client in clients)
            {
                client.Dispose();
            }
        }

        // Descriptors are free again: a new client is served.
        Eventually.True(() =>
        {
            using Socket again = Loopback.TcpConnect(tcp);
            again.Send("again"u8);
            try
            {
                return Loopback.ReceiveExactly(again, 5).AsSpan().SequenceEqual("again"u8);
            }
            catch (Exception ex) when (ex is SocketException or IOException)
            {
                return false;
            }
        });

        serve.Signal("TERM");
        serve.WaitForExit(TestTimeouts.Scale(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, serve.ExitCode);
        int warnings = serve.StandardError.Split('\n').Count(line => line.Contains("out of file descriptors", StringComparison.Ordinal));
        Assert.InRange(warnings, 1, 2 * loops); // once per episode and listener, not per client
    }

    [Fact]
    public void Serve_RaisesTheSoftLimitToTheHardOne_AndSaysSo()
    {
        using CliProcess serve = CliProcess.StartWithLimits(256, 1024, "serve", "--log-level", "debug", "--time-port", "0", "--echo-port", "0", "--tcp-echo-port", "0", "--fib-port", "0", "--workers", "2");
        serve.ReadListeners();
        Eventually.True(() => serve.StandardError.Contains("descriptor limit 1024 (hard limit 1024", StringComparison.Ordinal), because: serve.StandardError);
        Assert.Contains("Max open files            1024                 1024", File.ReadAllText($"/proc/{serve.Id}/limits"), StringComparison.Ordinal);
        Assert.DoesNotContain("below what --max-connections", serve.StandardError, StringComparison.Ordinal);
        serve.Signal("TERM");
        serve.WaitForExit(TestTimeouts.Scale(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Serve_SaysWhenTheHardLimitIsBelowMaxConnections()
    {
        using CliProcess serve = CliProcess.StartWithLimits(300, 300, "serve", "--time-port", "0", "--echo-port", "0", "--tcp-echo-port", "0", "--fib-port", "0", "--workers", "2", "--max-connections", "1000");
        serve.ReadListeners();
        Eventually.True(() => serve.StandardError.Contains("below what --max-connections", StringComparison.Ordinal), because: "no warning");
        string warning = serve.StandardError.Split('\n').Single(line => line.Contains("below what --max-connections", StringComparison.Ordinal));
        Assert.Contains("hard descriptor limit 300 is below what --max-connections 1000 needs", warning, StringComparison.Ordinal);
        Assert.Contains("warn", warning, StringComparison.Ordinal);
        serve.Signal("TERM");
        serve.WaitForExit(TestTimeouts.Scale(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, serve.ExitCode);
    }
}
