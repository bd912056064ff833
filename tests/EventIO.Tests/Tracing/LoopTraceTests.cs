using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using EventIO.Diagnostics;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Tracing;

/// <summary>The turn-by-turn trace of a scripted interaction with the recipe's servers, on the default backend (EVENTIO_BACKEND).</summary>
public sealed class LoopTraceTests
{
    [Fact]
    public void FibonacciAboveTheInlineLimit_IsQueued_ThenWakesTheLoop_AndRepliesFromAPostedCompletionInALaterTurn()
    {
        var tracer = new RecordingTracer();
        using RunningHost host = RunningHost.Start(tracer, "udp-fib");
        using Socket client = Loopback.UdpClient();
        Assert.Equal("1346269", Loopback.UdpRequest(client, host.EndPoint("udp-fib"), "30"u8)); // 30 > InlineMaxN: to the pool

        // The reply leaves inside the posted completion; the trace records it when the callback returns.
        Eventually.True(() => RecordingTracer.IndexOf(tracer.Events, "posted worker") >= 0, because: Describe(tracer.Events));
        IReadOnlyList<(long Turn, string Text)> events = tracer.Events;
        string trace = Describe(events);
        int queued = RecordingTracer.IndexOf(events, "queued UdpFibonacciServer.s_compute");
        Assert.True(queued >= 0, trace);
        // The request's dispatch ends after it queued the work (readiness, or a recvmsg completion on io_uring).
        int request = Math.Max(RecordingTracer.IndexOf(events, "ready UdpFibonacciServer", queued), RecordingTracer.IndexOf(events, "completion recvmsg", queued));
        Assert.True(request > queued && events[request].Turn == events[queued].Turn, trace);
        int wake = RecordingTracer.IndexOf(events, "ready EventFdWaker", request);
        int completion = RecordingTracer.IndexOf(events, "posted worker UdpFibonacciServer.s_respond", request);
        Assert.True(wake > request && completion > wake, trace);
        Assert.True(events[completion].Turn > events[queued].Turn, trace);
        Assert.Equal(events[wake].Turn, events[completion].Turn);
    }

    [Fact]
    public void TcpHalfClose_ShowsTheEchoTheEndOfStreamAndTheDeferredClose()
    {
        var tracer = new RecordingTracer();
        using RunningHost host = RunningHost.Start(tracer, "tcp-echo");
        using (Socket client = Loopback.TcpConnect(host.EndPoint("tcp-echo")))
        {
            client.Send("bye"u8);
            client.Shutdown(SocketShutdown.Send);
            Assert.Equal("bye"u8.ToArray(), Loopback.ReceiveExactly(client, 3));
            Assert.Equal(0, client.Receive(new byte[1])); // the server closed after its echo
        }

        Eventually.True(() => RecordingTracer.IndexOf(tracer.Events, "posted LoopHandler.s_reportClosed") >= 0);
        IReadOnlyList<(long Turn, string Text)> events = tracer.Events;
        string trace = Describe(events);
        int accepted, received, ended;
        if (host.Host.Loops[0].Backend == "io_uring")
        {
            // The first connection may be accepted on readiness, before the listener's multishot accept is armed.
            int byCompletion = RecordingTracer.IndexOf(events, "completion accept"), byReadiness = RecordingTracer.IndexOf(events, "ready TcpServer");
            accepted = byCompletion < 0 ? byReadiness : byReadiness < 0 ? byCompletion : Math.Min(byCompletion, byReadiness);
            received = RecordingTracer.IndexOf(events, "completion recv 3 TcpEchoConnection", accepted);
            ended = RecordingTracer.IndexOf(events, "completion recv 0 TcpEchoConnection", received);
        }
        else
        {
            accepted = RecordingTracer.IndexOf(events, "interest add TcpEchoConnection");
            received = RecordingTracer.IndexOf(events, "ready TcpEchoConnection Readable", accepted);
            ended = RecordingTracer.IndexOf(events, "interest remove TcpEchoConnection", received);
        }

        int closed = RecordingTracer.IndexOf(events, "posted LoopHandler.s_reportClosed", ended);
        Assert.True(accepted >= 0 && received > accepted && ended >= received && closed > ended, trace);
    }

    [Fact]
    public void Writer_TracesOnlyTheFirstTurns_ThenSaysSoOnce()
    {
        var output = new StringWriter();
        var writer = new LoopTraceWriter(output, LoopTraceFormat.Text, maxTurns: 3);
        using var loop = new EventLoop(new EventLoopOptions { Tracer = writer });
        for (int i = 0; i < 10; i++)
        {
            loop.Post(static () => { });
            loop.RunOnce(TimeSpan.Zero);
        }

        string[] lines = output.ToString().Split('\n');
        Assert.Equal(3, lines.Count(l => l.StartsWith("turn ", StringComparison.Ordinal)));
        Assert.Single(lines, l => l.Contains("3 turns written, the limit", StringComparison.Ordinal));
        Assert.Equal(3, writer.TurnsWritten);
        Assert.Contains(lines, l => l.Contains("posted", StringComparison.Ordinal) && l.Contains("LoopTraceTests", StringComparison.Ordinal));
    }

    [Fact]
    public void Writer_Json_WritesOneObjectPerTurnPerLine()
    {
        var output = new StringWriter();
        using (var loop = new EventLoop(new EventLoopOptions { Tracer = new LoopTraceWriter(output, LoopTraceFormat.Json, maxTurns: 2) }))
        {
            loop.Post(static () => { });
            loop.RunOnce(TimeSpan.Zero);
            loop.RunOnce(TimeSpan.FromMilliseconds(1));
        }

        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length); // two turns and the limit
        using JsonDocument first = JsonDocument.Parse(lines[0]);
        Assert.Equal(1, first.RootElement.GetProperty("turn").GetInt64());
        JsonElement[] events = [.. first.RootElement.GetProperty("events").EnumerateArray()];
        Assert.Equal("wait", events[0].GetProperty("e").GetString());
        Assert.Equal("posted", events[0].GetProperty("reason").GetString());
        Assert.Equal("wake", events[1].GetProperty("e").GetString()); // posted from outside a turn: the eventfd was written
        Assert.Equal("posted", events[2].GetProperty("e").GetString());
        using JsonDocument second = JsonDocument.Parse(lines[1]);
        Assert.Equal("limit", second.RootElement.GetProperty("events")[0].GetProperty("reason").GetString());
        using JsonDocument limit = JsonDocument.Parse(lines[2]);
        Assert.Equal("limit", limit.RootElement.GetProperty("e").GetString());
    }

    [Fact]
    public void Timers_AreTracedWithTheWaitTheyChose()
    {
        var tracer = new RecordingTracer();
        using var loop = new EventLoop(new EventLoopOptions { Tracer = tracer });
        bool ran = false;
        loop.CallLater(TimeSpan.FromMilliseconds(5), () => ran = true);
        Eventually.True(() =>
        {
            loop.RunOnce(TimeSpan.FromSeconds(1));
            return ran;
        });

        IReadOnlyList<(long Turn, string Text)> events = tracer.Events;
        int timer = RecordingTracer.IndexOf(events, "timer LoopTraceTests");
        Assert.True(timer > 0, Describe(events));
        Assert.Contains(events, e => e.Turn == events[timer].Turn && e.Text == "wait Timer");
    }

    private static string Describe(IReadOnlyList<(long Turn, string Text)> events)
    {
        var text = new StringBuilder("trace:\n");
        foreach ((long turn, string what) in events)
        {
            text.Append(turn).Append(": ").AppendLine(what);
        }

        return text.ToString();
    }

    /// <summary>A <see cref="RecipeHost"/> with one loop, traced, running on a thread of its own.</summary>
    private sealed class RunningHost : IDisposable
    {
        private readonly Thread _thread;

        private RunningHost(RecipeHost host)
        {
            Host = host;
            _thread = new Thread(() => host.Run()) { IsBackground = true, Name = "traced-host" };
            _thread.Start();
        }

        public RecipeHost Host { get; }

        public static RunningHost Start(LoopTracer tracer, string server)
            => new(new RecipeHost(new RecipeHostOptions
            {
                Servers = [server],
                Ports = new Dictionary<string, int> { [server] = 0 },
                Workers = 1,
                Tracer = tracer,
            }));

        public IPEndPoint EndPoint(string server) => Host.Listeners.Single(l => l.Name == server).EndPoint;

        public void Dispose()
        {
            Host.RequestShutdown();
            Assert.True(_thread.Join(TestTimeouts.Passing), "the host did not stop");
            Host.Dispose();
        }
    }
}
