using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using EventIO.Tests.Hostile;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Cli;

/// <summary>
/// The worker policy on a busy machine (issue 14): <c>serve</c> pinned to one CPU that a program at normal
/// priority keeps busy. Fibonacci work must still progress with the default settings (idle-priority workers
/// alone would take seconds there), with or without the privilege to leave SCHED_IDLE, and a loop serving
/// traffic must not be left waiting behind the work. Alone: the CPU hog would slow every other test.
/// </summary>
[Collection(HostileHeavyDefinition.Name)]
public sealed partial class BusyMachineTests
{
    // fib 30 takes about 10 ms of CPU. Under SCHED_IDLE behind one CPU hog it took 1.1-3 s; a fair
    // share (half the CPU) makes it about 20 ms. The bound leaves room for a loaded test machine.
    private static readonly TimeSpan FibDeadline = TestTimeouts.Scale(TimeSpan.FromMilliseconds(500));

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // setpriv drops CAP_SYS_NICE: the workers may not leave SCHED_IDLE
    public void FibonacciUnderACpuHog_IsAnsweredPromptly_WithTheDefaultPolicy(bool privileged)
    {
        using CliProcess serve = CliProcess.StartUnder(Wrapper(privileged), "serve", "--only", "udp-fib", "--fib-port", "0", "--workers", "4");
        int port = serve.ReadListeners(expected: 1)["udp-fib"];
        using Socket client = Loopback.UdpClient();
        var server = new IPEndPoint(IPAddress.Loopback, port);
        Assert.Equal("10946", Loopback.UdpRequest(client, server, "20"u8.ToArray())); // the recipe counts fib(0) = fib(1) = 1 // warm up: the JIT, the pool's threads

        using (Process hog = StartHog())
        {
            try
            {
                for (int i = 0; i < 3; i++)
                {
                    var watch = Stopwatch.StartNew();
                    Assert.Equal("1346269", Loopback.UdpRequest(client, server, "30"u8.ToArray()));
                    Assert.True(watch.Elapsed < FibDeadline, $"fib 30 took {watch.Elapsed.TotalMilliseconds:F0} ms behind a CPU hog (round {i}); server: {serve.StandardError}");
                }
            }
            finally
            {
                hog.Kill();
            }
        }

        serve.Signal("TERM");
        serve.WaitForExit(TestTimeouts.Passing);
        Match totals = WorkerTotals().Match(serve.StandardError);
        Assert.True(totals.Success, serve.StandardError);
        if (privileged)
        {
            Assert.True(long.Parse(totals.Groups["promoted"].Value) >= 1, "the starving item was promoted: " + totals.Value);
            Assert.DoesNotContain("may not leave SCHED_IDLE", totals.Value);
        }
        else
        {
            Assert.Contains("may not leave SCHED_IDLE: items start at normal priority", totals.Value);
            Assert.Equal("0", totals.Groups["promoted"].Value);
        }
    }

    // Without privilege, work starts at the normal policy; 16 fib 34 on the loop's only CPU would take most of
    // it from an echo loop. The loop's waits send them to SCHED_IDLE (their threads are then replaced), and
    // every echo is answered, byte for byte, while the work still completes.
    private const int Work = 16;

    [Fact]
    public void Unprivileged_WorkThatMakesTheLoopWait_IsSentToIdlePriority_AndEveryEchoIsAnswered()
    {
        using CliProcess serve = CliProcess.StartUnder(Wrapper(privileged: false), "serve", "--only", "tcp-echo,udp-fib", "--tcp-echo-port", "0", "--fib-port", "0", "--workers", "16");
        Dictionary<string, int> ports = serve.ReadListeners(expected: 2);
        var fib = new IPEndPoint(IPAddress.Loopback, ports["udp-fib"]);
        using Socket echo = Loopback.TcpConnect(new IPEndPoint(IPAddress.Loopback, ports["tcp-echo"]));
        echo.ReceiveTimeout = (int)TestTimeouts.Passing.TotalMilliseconds;
        using Socket client = Loopback.UdpClient();
        for (int i = 0; i < Work; i++)
        {
            client.SendTo("34"u8, fib);
        }

        var reply = new byte[64];
        int answered = 0;
        long deadline = Environment.TickCount64 + (long)TestTimeouts.Scale(TimeSpan.FromSeconds(60)).TotalMilliseconds;
        for (int round = 0; answered < Work; round++)
        {
            Assert.True(Environment.TickCount64 < deadline, $"{answered} of {Work} fib 34 answered; server: {serve.StandardError}");
            byte[] line = Encoding.ASCII.GetBytes($"round {round}\n");
            echo.Send(line);
            int got = 0;
            while (got < line.Length)
            {
                got += echo.Receive(reply, got, line.Length - got, SocketFlags.None);
            }

            Assert.Equal(line, reply[..line.Length]);
            if (client.Poll(0, SelectMode.SelectRead))
            {
                int n = client.Receive(reply);
                Assert.Equal("9227465", Encoding.ASCII.GetString(reply, 0, n)); // fib(34)
                answered++;
            }
        }

        serve.Signal("TERM");
        serve.WaitForExit(TestTimeouts.Passing);
        Match totals = WorkerTotals().Match(serve.StandardError);
        Assert.True(totals.Success, serve.StandardError);
        Assert.True(long.Parse(totals.Groups["demoted"].Value) >= 1, "the loop waited behind normal-priority work: " + totals.Value);
        Assert.True(long.Parse(totals.Groups["retired"].Value) >= 1, "a thread stuck under SCHED_IDLE was replaced: " + totals.Value);
    }

    private static string[] Wrapper(bool privileged) => privileged
        ? ["taskset", "-c", "0"]
        : ["taskset", "-c", "0", "setpriv", "--bounding-set=-sys_nice", "--inh-caps=-sys_nice"];

    private static Process StartHog()
    {
        var info = new ProcessStartInfo("taskset", ["-c", "0", "sh", "-c", "while :; do :; done"]) { UseShellExecute = false };
        return Process.Start(info) ?? throw new InvalidOperationException("the CPU hog did not start");
    }

    [GeneratedRegex(@"workers \(adaptive[^)]*\): (?<done>\d+) items run, (?<promoted>\d+) promoted while starved, (?<demoted>\d+) sent back to idle priority when a loop waited, (?<retired>\d+) threads retired")]
    private static partial Regex WorkerTotals();
}
