using System.Diagnostics;
using EventIO.Diagnostics;
using EventIO.Tests.Infrastructure;
using EventIO.Timers;

namespace EventIO.Tests.Metrics;

/// <summary>The loop's instruments move with what the loop does: turns, busy time, queued posts, timers, handlers, slow callbacks.</summary>
public sealed class LoopMetricsTests
{
    private static readonly (string, string) s_loop0 = (EventIOMetrics.LoopTag, "loop-0");

    [Fact]
    public void Turns_And_BusyTime_GrowWithWork_AndBusyTimeStaysBelowWallTime()
    {
        using var metrics = new EventIOMetrics();
        using var loop = new LoopThread();
        metrics.Observe(loop.Loop, "loop-0");
        var wall = Stopwatch.StartNew();
        long turnsBefore = MetricsProbe.Read(metrics, "eventio.loop.turns", s_loop0);
        double busyBefore = MetricsProbe.ReadDouble(metrics, "eventio.loop.busy_time", s_loop0);

        // 100 ms of work on the loop thread: busy time, not waiting.
        loop.Invoke(() => Spin(TimeSpan.FromMilliseconds(100)));
        for (int i = 0; i < 10; i++)
        {
            loop.Invoke(() => { });
        }

        Eventually.True(() => MetricsProbe.ReadDouble(metrics, "eventio.loop.busy_time", s_loop0) - busyBefore >= 0.1); // counted at the next wait
        double busy = MetricsProbe.ReadDouble(metrics, "eventio.loop.busy_time", s_loop0) - busyBefore;
        Assert.True(busy <= wall.Elapsed.TotalSeconds, $"busy {busy:F3} s in {wall.Elapsed.TotalSeconds:F3} s of wall time");
        Assert.True(MetricsProbe.Read(metrics, "eventio.loop.turns", s_loop0) - turnsBefore >= 10);
    }

    [Fact]
    public void AnIdleLoop_IsNotBusy()
    {
        using var metrics = new EventIOMetrics();
        using var loop = new LoopThread();
        metrics.Observe(loop.Loop, "loop-0");
        loop.Invoke(() => { });
        double before = MetricsProbe.ReadDouble(metrics, "eventio.loop.busy_time", s_loop0);
        var idle = Stopwatch.StartNew();
        Thread.Sleep(TestTimeouts.NothingHappens); // a measurement window, not synchronisation: nothing happens in it
        loop.Invoke(() => { }); // ends the wait, so its time is accounted
        double busy = MetricsProbe.ReadDouble(metrics, "eventio.loop.busy_time", s_loop0) - before;
        Assert.True(busy < idle.Elapsed.TotalSeconds / 2, $"an idle loop was busy {busy:F3} s of {idle.Elapsed.TotalSeconds:F3} s");
    }

    [Fact]
    public void PostedQueue_PendingTimers_RegisteredHandlers_AreWhatTheLoopHolds()
    {
        using var metrics = new EventIOMetrics();
        using var loop = new LoopThread();
        using var gate = new ManualResetEventSlim();
        metrics.Observe(loop.Loop, "loop-0");
        int handlersBefore = (int)MetricsProbe.Read(metrics, "eventio.loop.registered_handlers", s_loop0);
        TimerHandle[] timers = loop.Invoke(() => new[] { loop.Loop.CallLater(TimeSpan.FromHours(1), () => { }), loop.Loop.CallLater(TimeSpan.FromHours(2), () => { }) });
        Assert.Equal(2, MetricsProbe.Read(metrics, "eventio.loop.pending_timers", s_loop0));

        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        var handler = new Loop.PlainHandler(socket);
        loop.Invoke(() => loop.Loop.Add(handler));
        Assert.Equal(handlersBefore + 1, MetricsProbe.Read(metrics, "eventio.loop.registered_handlers", s_loop0));

        // The loop is held by one action; three more wait in its queue.
        using var started = new ManualResetEventSlim();
        loop.Loop.Post(() =>
        {
            started.Set();
            gate.Wait(TestTimeouts.Passing);
        });
        Assert.True(started.Wait(TestTimeouts.Passing));
        for (int i = 0; i < 3; i++)
        {
            loop.Loop.Post(() => { });
        }

        Assert.Equal(3, MetricsProbe.Read(metrics, "eventio.loop.posted_queue.length", s_loop0));
        gate.Set();
        Eventually.True(() => MetricsProbe.Read(metrics, "eventio.loop.posted_queue.length", s_loop0) == 0);
        loop.Invoke(() =>
        {
            timers[0].Cancel();
            loop.Loop.Remove(handler);
        });
        Assert.Equal(1, MetricsProbe.Read(metrics, "eventio.loop.pending_timers", s_loop0));
        Assert.Equal(handlersBefore, MetricsProbe.Read(metrics, "eventio.loop.registered_handlers", s_loop0));
    }

    [Fact]
    public void SlowCallbacks_CountsEachCallbackPastTheThreshold()
    {
        using var metrics = new EventIOMetrics();
        using var loop = new LoopThread(new EventLoopOptions { SlowCallbackThreshold = TimeSpan.FromMilliseconds(20), Logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance });
        metrics.Observe(loop.Loop, "loop-0");
        loop.Invoke(() => Spin(TimeSpan.FromMilliseconds(60)));
        loop.Invoke(() => Spin(TimeSpan.FromMilliseconds(60)));
        // Counted when each callback returns, just after Invoke has its result.
        Eventually.True(() => MetricsProbe.Read(metrics, "eventio.loop.slow_callbacks", s_loop0) == 2);
        loop.Invoke(() => { });
        Assert.Equal(2, MetricsProbe.Read(metrics, "eventio.loop.slow_callbacks", s_loop0));
    }

    [Fact]
    public void AGroup_IsObservedLoopByLoop_NamedAsItsThreads()
    {
        using var metrics = new EventIOMetrics();
        using var group = new EventLoopGroup(2);
        metrics.Observe(group);
        using var collector = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(metrics.Meter, "eventio.loop.turns");
        collector.RecordObservableInstruments();
        Assert.Equal(["loop-0", "loop-1"], collector.GetMeasurementSnapshot().Select(m => (string)m.Tags[EventIOMetrics.LoopTag]!).Order());
        Assert.Equal("loop-1", metrics.NameOf(group[1]));
    }

    private static void Spin(TimeSpan time)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < time)
        {
            Thread.SpinWait(100);
        }
    }
}
