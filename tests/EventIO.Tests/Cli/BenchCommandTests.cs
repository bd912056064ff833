using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Cli;

/// <summary><c>eventio bench</c> end to end: the built command loads <c>eventio serve</c>, both as separate processes.</summary>
public sealed partial class BenchCommandTests
{
    [Theory]
    [InlineData("tcp", "tcp-echo")]
    [InlineData("udp", "udp-echo")]
    public void Bench_AgainstServe_ExitsZeroWithRoundTripsAndNoMismatches(string protocol, string server)
    {
        using CliProcess serve = CliProcess.Start("serve", "--only", server, "--time-port", "0", "--echo-port", "0", "--tcp-echo-port", "0", "--fib-port", "0");
        string port = ReadPort(serve, server);

        var stopwatch = Stopwatch.StartNew();
        using CliProcess bench = CliProcess.Run("bench", protocol, "--port", port, "--connections", "8", "--pipeline", "2", "--duration", "1", "--warmup", "0.2");
        TimeSpan took = stopwatch.Elapsed;

        Assert.True(bench.ExitCode == 0, $"exit code {bench.ExitCode}; stderr: {bench.StandardError}");
        Dictionary<string, string> result = KeyValueLine(bench);
        Assert.True(double.Parse(result["rps"], CultureInfo.InvariantCulture) > 0, $"no round trips: {bench.StandardOutput}");
        Assert.Equal("0", result["mismatches"]);
        Assert.Equal("0", result["errors"]);
        Assert.True(double.Parse(result["p50_us"], CultureInfo.InvariantCulture) > 0);
        Assert.True(double.Parse(result["p50_us"], CultureInfo.InvariantCulture) <= double.Parse(result["max_us"], CultureInfo.InvariantCulture));
        Assert.Contains("round trips/s", bench.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("eventio bench:", bench.StandardError, StringComparison.Ordinal); // the progress lines
        Assert.True(took < TestTimeouts.Scale(TimeSpan.FromSeconds(10)), $"bench took {took} for 0.2 s + 1 s of load"); // a hang guard: two process starts under a loaded test run

        serve.Signal("TERM");
        serve.WaitForExit(TestTimeouts.Scale(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, serve.ExitCode);
    }

    [Theory]
    [InlineData("tcp")]
    [InlineData("udp")]
    public void Bench_NobodyListening_ExitsOneWithAOneLineError(string protocol)
    {
        string port = UnusedPort(protocol == "tcp" ? SocketType.Stream : SocketType.Dgram);

        var stopwatch = Stopwatch.StartNew();
        using CliProcess bench = CliProcess.Run("bench", protocol, "--port", port, "--duration", "1", "--timeout", "1");
        TimeSpan took = stopwatch.Elapsed;

        Assert.Equal(1, bench.ExitCode);
        string error = bench.StandardError.Trim();
        Assert.DoesNotContain('\n', error);
        Assert.Contains("connection refused", error, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{port}", error, StringComparison.Ordinal);
        Assert.DoesNotContain("rps=", bench.StandardOutput, StringComparison.Ordinal);
        Assert.True(took < TestTimeouts.Scale(TimeSpan.FromSeconds(5)), $"took {took}");
    }

    [Theory]
    [InlineData("tcp", "--port", "9", "--size", "15")]
    [InlineData("tcp", "--port", "9", "--connections", "0")]
    [InlineData("tcp", "--port", "9", "--pipeline", "0")]
    [InlineData("tcp", "--port", "9", "--duration", "0")]
    [InlineData("tcp", "--port", "9", "--warmup", "-1")]
    [InlineData("tcp", "--port", "9", "--timeout", "soon")]
    [InlineData("tcp", "--port", "0")]
    [InlineData("tcp", "--port", "70000")]
    [InlineData("tcp", "--port", "nine")]
    [InlineData("tcp")]
    [InlineData("sctp", "--port", "9")]
    [InlineData("udp", "--port", "9", "--size", "70000")]
    [InlineData("tcp", "--port", "9", "--size", "1048576", "--pipeline", "65")]
    [InlineData("tcp", "--port", "9", "--format", "xml")]
    public void Bench_BadOptions_AreAUsageError(params string[] args)
    {
        using CliProcess bench = CliProcess.Run(["bench", .. args]);
        UsageErrors.AssertUsageError(bench, "eventio bench");
        Assert.DoesNotContain("rps=", bench.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_FormatJson_PrintsOneObjectWithEveryFigure()
    {
        using CliProcess serve = CliProcess.Start("serve", "--only", "udp-echo", "--time-port", "0", "--echo-port", "0", "--tcp-echo-port", "0", "--fib-port", "0");
        string port = ReadPort(serve, "udp-echo");

        using CliProcess bench = CliProcess.Run("bench", "udp", "--port", port, "--connections", "2", "--duration", "0.5", "--warmup", "0", "--timeout", "0.5", "--format", "json");

        Assert.True(bench.ExitCode == 0, $"exit code {bench.ExitCode}; stderr: {bench.StandardError}");
        string line = Assert.Single(bench.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var json = JsonDocument.Parse(line);
        JsonElement root = json.RootElement;
        Assert.Equal("udp", root.GetProperty("mode").GetString());
        Assert.Equal(int.Parse(port, CultureInfo.InvariantCulture), root.GetProperty("port").GetInt32());
        Assert.Equal(0.5, root.GetProperty("timeout_s").GetDouble());
        Assert.True(root.GetProperty("rps").GetDouble() > 0);
        Assert.True(root.GetProperty("round_trips").GetInt64() > 0);
        Assert.True(root.GetProperty("p50_us").GetDouble() <= root.GetProperty("max_us").GetDouble());
        foreach (string key in (string[])["conns", "size", "pipeline", "secs", "connect_s", "mib_per_s", "samples", "p90_us", "p99_us", "p999_us", "mean_us", "errors", "mismatches", "lost", "late", "ended_early", "exit_code"])
        {
            Assert.True(root.TryGetProperty(key, out _), $"no '{key}' in {line}");
        }

        serve.Signal("TERM");
        serve.WaitForExit(TestTimeouts.Scale(TimeSpan.FromSeconds(5)));
    }

    // A port that was free a moment ago and that nobody listens on now.
    private static string UnusedPort(SocketType type)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, type, type == SocketType.Stream ? ProtocolType.Tcp : ProtocolType.Udp);
        socket.Bind(Loopback.AnyPort);
        return ((IPEndPoint)socket.LocalEndPoint!).Port.ToString(CultureInfo.InvariantCulture);
    }

    private static string ReadPort(CliProcess serve, string server)
    {
        Dictionary<string, int> ports = serve.ReadListeners(expected: 1);
        Assert.True(ports.ContainsKey(server), $"serve did not start {server}");
        return ports[server].ToString(CultureInfo.InvariantCulture);
    }

    private static Dictionary<string, string> KeyValueLine(CliProcess bench)
    {
        string? line = bench.StandardOutput.Split('\n').SingleOrDefault(l => l.StartsWith("rps=", StringComparison.Ordinal));
        Assert.True(line is not null, $"no key=value line in: {bench.StandardOutput}");
        return line.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(kv => kv[0], kv => kv[1]);
    }
}
