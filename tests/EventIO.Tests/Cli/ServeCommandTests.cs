using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Servers;

namespace EventIO.Tests.Cli;

/// <summary><c>eventio serve</c> and the clients, end to end, as separate processes on loopback.</summary>
public sealed partial class ServeCommandTests
{
    private static readonly string[] s_anyPorts = ["--time-port", "0", "--echo-port", "0", "--tcp-echo-port", "0", "--fib-port", "0"];

    [GeneratedRegex(@"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 123]\d \d\d:\d\d:\d\d \d{4}$")]
    private static partial Regex CTime();

    [Theory]
    [InlineData("epoll")]
    [InlineData("poll")]
    [InlineData("select")]
    public void Serve_AllFourServersAnswer_ThenSigtermExitsZeroWithinFiveSeconds(string backend)
    {
        using CliProcess serve = CliProcess.Start(["serve", .. s_anyPorts, "--backend", backend, "--workers", "2"]);
        Dictionary<string, int> ports = serve.ReadListeners();

        using (Socket udp = Loopback.UdpClient())
        {
            Assert.Matches(CTime(), Loopback.UdpRequest(udp, new IPEndPoint(IPAddress.Loopback, ports["udp-time"]), []));
            Assert.Equal("hello", Loopback.UdpRequest(udp, new IPEndPoint(IPAddress.Loopback, ports["udp-echo"]), "hello"u8));
            Assert.Equal("89", Loopback.UdpRequest(udp, new IPEndPoint(IPAddress.Loopback, ports["udp-fib"]), "10"u8));
            Assert.StartsWith("error:", Loopback.UdpRequest(udp, new IPEndPoint(IPAddress.Loopback, ports["udp-fib"]), "ten"u8), StringComparison.Ordinal);
        }

        using (Socket tcp = Loopback.TcpConnect(new IPEndPoint(IPAddress.Loopback, ports["tcp-echo"])))
        {
            tcp.Send("over tcp"u8);
            Assert.Equal("over tcp"u8.ToArray(), Loopback.ReceiveExactly(tcp, 8));
        }

        var stopwatch = Stopwatch.StartNew();
        serve.Signal("TERM");
        serve.WaitForExit(TestTimeouts.Scale(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, serve.ExitCode);
        Assert.True(stopwatch.Elapsed < TestTimeouts.Scale(TimeSpan.FromSeconds(5)), $"exit took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task Serve_SigtermWithDataInFlight_EndsEveryConnectionCleanlyAndExitsZero()
    {
        using CliProcess serve = CliProcess.Start(["serve", .. s_anyPorts, "--only", "tcp-echo"]);
        Dictionary<string, int> ports = serve.ReadListeners(expected: 1);
        var server = new IPEndPoint(IPAddress.Loopback, ports["tcp-echo"]);
        using Socket idle = Loopback.TcpConnect(server);
        using Socket busy = Loopback.TcpConnect(server);

        // 512 KiB and a half-close, not reading yet: the server has echo data in flight when it is told to stop.
        // (Which bytes it had read by then is a race; the in-process TcpServer.Shutdown tests pin that down.)
        byte[] payload = new byte[512 * 1024];
        new Random(7).NextBytes(payload);
        Task sender = Task.Run(() =>
        {
            busy.Send(payload);
            busy.Shutdown(SocketShutdown.Send);
        });
        byte[] received = new byte[payload.Length];
        int got = busy.Receive(received, 0, 1, SocketFlags.None);
        serve.Signal("TERM");
        int n;
        while (got < received.Length && (n = busy.Receive(received, got, received.Length - got, SocketFlags.None)) > 0)
        {
            got += n;
        }

        await sender.DefaultTimeout();
        Assert.True(got > 0);
        Assert.True(payload.AsSpan(0, got).SequenceEqual(received.AsSpan(0, got)), "the echo is not a prefix of what was sent");
        Assert.Equal(0, busy.Receive(new byte[1]));  // a clean end of stream, not a reset
        Assert.Equal(0, idle.Receive(new byte[1]));  // the idle client is closed too
        serve.WaitForExit(TestTimeouts.Scale(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, serve.ExitCode);
    }

    [Fact]
    public async Task Serve_SecondSigterm_ExitsAtOnceWhileAGracefulShutdownIsStillFlushing()
    {
        using CliProcess serve = CliProcess.Start(["serve", .. s_anyPorts, "--only", "tcp-echo", "--shutdown-timeout", "60"]);
        Dictionary<string, int> ports = serve.ReadListeners(expected: 1);
        var server = new IPEndPoint(IPAddress.Loopback, ports["tcp-echo"]);
        using Socket stuck = Loopback.TcpConnect(server);

        // One echoed byte first: the server has accepted the connection, so closing the listener cannot
        // reset it while it still waits in the backlog (the process would then have nothing to flush).
        stuck.Send([42]);
        Assert.Equal([42], Loopback.ReceiveExactly(stuck, 1));

        // A client that sends 4 MiB and never reads: its echo stays queued, so a graceful shutdown
        // cannot finish until the 60 s deadline.
        Task writer = Task.Run(() =>
        {
            try
            {
                stuck.Send(new byte[4 * 1024 * 1024]);
            }
            catch (SocketException)
            {
                // the server went away: expected at the end
            }
        });

        serve.Signal("TERM");
        Eventually.True(() =>
        {
            try
            {
                using Socket probe = Loopback.TcpConnect(server);
                return false;
            }
            catch (SocketException)
            {
                return true; // the listener is closed: the first signal is being handled
            }
        });
        Assert.False(serve.HasExited, "the graceful shutdown should still be flushing the stuck client");

        serve.Signal("TERM");
        serve.WaitForExit(TestTimeouts.Scale(TimeSpan.FromSeconds(3))); // "at once", not the 60 s deadline
        Assert.NotEqual(0, serve.ExitCode);
        Assert.Contains("second signal", serve.StandardError, StringComparison.Ordinal);
        stuck.Dispose();
        await writer.DefaultTimeout();
    }

    [Fact]
    public void Serve_PortInUse_PrintsOneLineNamingItAndExitsOne()
    {
        using var occupied = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        occupied.Bind(Loopback.AnyPort);
        occupied.Listen();
        int port = ((IPEndPoint)occupied.LocalEndPoint!).Port;

        using CliProcess serve = CliProcess.Run(["serve", "--time-port", "0", "--echo-port", "0", "--fib-port", "0", "--tcp-echo-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.Equal(1, serve.ExitCode);
        string error = serve.StandardError.Trim();
        Assert.DoesNotContain('\n', error);
        Assert.Contains($"tcp-echo 127.0.0.1:{port}", error, StringComparison.Ordinal);
        Assert.Contains("address already in use", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Serve_MetricsInterval_LogsAOneLineSummaryPeriodically()
    {
        using CliProcess serve = CliProcess.Start(["serve", .. s_anyPorts, "--only", "tcp-echo", "--loops", "1", "--metrics-interval", "0.2"]);
        Dictionary<string, int> ports = serve.ReadListeners(expected: 1);
        using (Socket tcp = Loopback.TcpConnect(new IPEndPoint(IPAddress.Loopback, ports["tcp-echo"])))
        {
            tcp.Send("m"u8);
            Assert.Equal("m"u8.ToArray(), Loopback.ReceiveExactly(tcp, 1));
            Eventually.True(() => serve.StandardError.Contains("tcp 1 open", StringComparison.Ordinal), because: serve.StandardError);
        }

        Assert.Matches(@"metrics: busy loop-0 \d+%, \d+ turns/s, 0 slow callbacks; tcp \d+ open", serve.StandardError);
        serve.Signal("TERM");
        serve.WaitForExit(TestTimeouts.Scale(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, serve.ExitCode);
    }

    [Theory]
    [InlineData("serve", "--metrics-interval", "0")]
    [InlineData("serve", "--workers", "0")]
    [InlineData("serve", "--fib-max", "100")]
    [InlineData("serve", "--backend", "kqueue")]
    [InlineData("serve", "--time-port", "70000")]
    [InlineData("serve", "--host", "not-an-address")]
    [InlineData("serve", "--only", "udp-nothing")]
    [InlineData("serve", "--log-format", "xml")]
    [InlineData("serve", "--log-level", "loud")]
    [InlineData("time", "--timeout", "-1")]
    [InlineData("serve", "--loops", "0")]
    [InlineData("serve", "--loops", "-3")]
    [InlineData("serve", "--loops", "1000000")]
    [InlineData("serve", "--loops", "two")]
    [InlineData("serve", "--udp-batch", "65")]
    [InlineData("serve", "--accept", "sometimes")]
    [InlineData("serve", "--udp-rate-limit", "-1")]
    [InlineData("serve", "--udp-rate-limit", "fast")]
    [InlineData("serve", "--max-connections-per-ip", "-2")]
    [InlineData("serve", "--max-connections-per-ip", "1.5")]
    [InlineData("echo", "hello", "--port", "70000")]
    [InlineData("fib", "--port", "x")]
    public void BadOptions_AreAUsageError(params string[] args)
    {
        using CliProcess p = CliProcess.Run(args);
        UsageErrors.AssertUsageError(p, "eventio " + args[0]);
    }

    [Theory]
    [InlineData("reuseport")]
    [InlineData("single")]
    public void TwoLoops_EveryServerAnswers_AndSigtermDrainsBoth(string accept)
    {
        using CliProcess serve = CliProcess.Start(["serve", .. s_anyPorts, "--loops", "2", "--accept", accept, "--workers", "2"]);
        Dictionary<string, int> ports = serve.ReadListeners();
        using (Socket udp = Loopback.UdpClient())
        {
            Assert.Equal("hello", Loopback.UdpRequest(udp, new IPEndPoint(IPAddress.Loopback, ports["udp-echo"]), "hello"u8));
            Assert.Equal("89", Loopback.UdpRequest(udp, new IPEndPoint(IPAddress.Loopback, ports["udp-fib"]), "10"u8));
            Assert.Equal("1346269", Loopback.UdpRequest(udp, new IPEndPoint(IPAddress.Loopback, ports["udp-fib"]), "30"u8)); // the pool's answer, back on its loop
        }

        // Enough connections that both loops get some; each echoes its own bytes.
        Socket[] clients = [.. Enumerable.Range(0, 16).Select(_ => Loopback.TcpConnect(new IPEndPoint(IPAddress.Loopback, ports["tcp-echo"])))];
        try
        {
            for (int i = 0; i < clients.Length; i++)
            {
                byte[] mine = BitConverter.GetBytes(i * 7919);
                clients[i].Send(mine);
                Assert.Equal(mine, Loopback.ReceiveExactly(clients[i], mine.Length));
            }

            serve.Signal("TERM");
            foreach (Socket client in clients)
            {
                ServerTestSupport.AssertEndOfStream(client); // every connection, on either loop, ended cleanly
            }
        }
        finally
        {
            foreach (Socket client in clients)
            {
                client.Dispose();
            }
        }

        serve.WaitForExit(TestTimeouts.Scale(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, serve.ExitCode);
        Assert.Contains("tcp-echo totals: 16 connections accepted", serve.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void Clients_TalkToTheServers()
    {
        using CliProcess serve = CliProcess.Start(["serve", .. s_anyPorts, "--workers", "2"]);
        Dictionary<string, int> ports = serve.ReadListeners();
        string Port(string name) => ports[name].ToString(System.Globalization.CultureInfo.InvariantCulture);

        using (CliProcess time = CliProcess.Run("time", "--port", Port("udp-time")))
        {
            Assert.Equal(0, time.ExitCode);
            Assert.Matches(CTime(), time.StandardOutput.Trim());
        }

        using (CliProcess echo = CliProcess.Run("echo", "hello world", "--port", Port("udp-echo")))
        {
            Assert.Equal(0, echo.ExitCode);
            Assert.Equal("hello world", echo.StandardOutput.Trim());
        }

        using (CliProcess echo = CliProcess.Run("echo", "over tcp", "--tcp", "--port", Port("tcp-echo")))
        {
            Assert.Equal(0, echo.ExitCode);
            Assert.Equal("over tcp", echo.StandardOutput.Trim());
        }

        using (CliProcess fib = CliProcess.Run("fib", "0..10", "--port", Port("udp-fib")))
        {
            Assert.Equal(0, fib.ExitCode);
            Assert.Equal(["1", "1", "2", "3", "5", "8", "13", "21", "34", "55", "89"], fib.StandardOutput.Split('\n'));
        }

        using (CliProcess fib = CliProcess.Run("fib", "5", "-3", "--port", Port("udp-fib")))
        {
            Assert.Equal(1, fib.ExitCode);
            Assert.Equal("8", fib.StandardOutput.Trim());
            Assert.Contains("error: negative number", fib.StandardError, StringComparison.Ordinal);
        }

        serve.Signal("TERM");
        serve.WaitForExit(TestTimeouts.Scale(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, serve.ExitCode);
    }

    [Fact]
    public void Client_WithNoServer_EndsWithAClearErrorInsteadOfHanging()
    {
        // A bound UDP socket that never answers: the client must give up after its timeout.
        using Socket silent = Loopback.UdpClient();
        string port = ((IPEndPoint)silent.LocalEndPoint!).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using CliProcess time = CliProcess.Run("time", "--port", port, "--timeout", "0.5");
        Assert.Equal(1, time.ExitCode);
        Assert.Contains("no reply", time.StandardError, StringComparison.Ordinal);
    }
}
