using System.Net;
using System.Net.Sockets;
using EventIO.Tests.Cli;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Tracing;

/// <summary><c>eventio serve --trace</c> end to end: the blocks on stdout, the bound, the usage errors.</summary>
public sealed class ServeTraceTests
{
    [Fact]
    public void ServeTrace_WritesTheFirstNTurns_ThenTheLimitLine_AndNothingMore()
    {
        using CliProcess serve = CliProcess.Start("serve", "--only", "udp-echo", "--echo-port", "0", "--loops", "1", "--trace", "--trace-turns", "2");
        Dictionary<string, int> ports = serve.ReadListeners(expected: 1);
        using (Socket udp = Loopback.UdpClient())
        {
            for (int i = 0; i < 5; i++)
            {
                Assert.Equal("hello", Loopback.UdpRequest(udp, new IPEndPoint(IPAddress.Loopback, ports["udp-echo"]), "hello"u8));
            }
        }

        var lines = new List<string>();
        string line;
        do
        {
            line = serve.ReadLine();
            lines.Add(line);
        }
        while (!line.StartsWith("(trace:", StringComparison.Ordinal));

        serve.Signal("TERM");
        serve.WaitForExit(TestTimeouts.Passing);
        Assert.Equal(0, serve.ExitCode);
        Assert.Equal(2, lines.Count(l => l.StartsWith("turn ", StringComparison.Ordinal)));
        // The echo server's datagrams: a ready line on a readiness backend, a completion of its own RECVMSG on io_uring.
        Assert.Contains(lines, l => (l.Contains("ready", StringComparison.Ordinal) && l.Contains("UdpEchoServer  R", StringComparison.Ordinal))
            || (l.Contains("completion", StringComparison.Ordinal) && l.Contains("UdpEchoServer", StringComparison.Ordinal)));
        Assert.Equal("(trace: 2 turns written, the limit; tracing stops here)", lines[^1]);
        Assert.DoesNotContain("turn 3", serve.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--trace-turns", "0")]
    [InlineData("--trace-turns", "many")]
    [InlineData("--trace-format", "xml")]
    public void ServeTrace_BadValue_IsAClearUsageError(string option, string value)
    {
        using CliProcess serve = CliProcess.Run("serve", "--trace", option, value);
        UsageErrors.AssertUsageError(serve, "eventio serve");
        Assert.Contains(option, serve.StandardError, StringComparison.Ordinal);
    }
}
