using System.Diagnostics;
using System.Runtime.Versioning;
using HdrHistogram;

namespace EventIO.Cli.Load;

/// <summary>
/// The state every connection of one run shares, on the loop thread: the clock windows, the counters,
/// the latency histogram, and the end of the run (stop sending, collect the echoes still in flight, stop).
/// </summary>
/// <remarks>
/// Counting follows echoload: a round trip counts for throughput if it completes inside the measured
/// window, and its latency is recorded only if it was also sent inside it, so a stall during warm-up
/// (JIT, connection set-up) does not leak into the percentiles.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class LoadRun
{
    private const int MaxReportedFailures = 5;
    private static readonly TimeSpan s_drainLimit = TimeSpan.FromSeconds(1);

    private readonly long _highestTrackable;
    private int _reported;

    internal LoadRun(BenchSettings settings, EventLoop loop)
    {
        Settings = settings;
        Loop = loop;
        Pattern = new MessagePattern(settings.Size);
        SendBuffer = new byte[settings.Size];
        _highestTrackable = Stopwatch.Frequency * 3600; // an hour; longer round trips are recorded as an hour
        Histogram = new LongHistogram(_highestTrackable, 3); // Stopwatch ticks (ns on Linux), 3 significant digits
    }

    internal BenchSettings Settings { get; }

    internal EventLoop Loop { get; }

    internal MessagePattern Pattern { get; }

    /// <summary>Scratch for building one outgoing datagram (loop thread only).</summary>
    internal byte[] SendBuffer { get; }

    /// <summary>Round-trip times in <see cref="Stopwatch"/> ticks, of messages sent and echoed inside the window.</summary>
    internal LongHistogram Histogram { get; }

    /// <summary>The largest round-trip time recorded, exactly, in ticks.</summary>
    internal long MaxLatency { get; private set; }

    internal long StartedAt { get; private set; }

    internal long WindowStart { get; private set; }

    internal long WindowEnd { get; private set; }

    /// <summary>When measuring stopped: the end of the window, or earlier if the run was cut short.</summary>
    internal long StoppedAt { get; private set; }

    /// <summary>The measured window is over (or was cut short): send nothing new.</summary>
    internal bool Stopping { get; private set; }

    /// <summary>Round trips completed since the start, warm-up included (for the progress line).</summary>
    internal long Completed { get; private set; }

    /// <summary>Round trips completed inside the measured window.</summary>
    internal long Measured { get; private set; }

    internal long Errors { get; set; }

    internal long Mismatches { get; set; }

    internal long Lost { get; set; }

    internal long Late { get; set; }

    /// <summary>Messages sent and not yet echoed (or given up), over all connections.</summary>
    internal long InFlight { get; private set; }

    /// <summary>Connections still open.</summary>
    internal int Alive { get; set; }

    /// <summary>True if the drain after the window ran out of time with echoes still missing.</summary>
    internal bool DrainTimedOut { get; private set; }

    internal void Begin(long now)
    {
        StartedAt = now;
        WindowStart = now + ToTicks(Settings.Warmup);
        WindowEnd = WindowStart + ToTicks(Settings.Duration);
        StoppedAt = WindowEnd;
    }

    internal bool InWindow(long now) => now >= WindowStart && now < WindowEnd;

    internal void Sent(int messages) => InFlight += messages;

    /// <summary>A whole, verified echo came back at <paramref name="now"/> for a message sent at <paramref name="sentAt"/>.</summary>
    internal void Complete(long now, long sentAt)
    {
        Completed++;
        if (InWindow(now))
        {
            Measured++;
            if (sentAt >= WindowStart)
            {
                long latency = Math.Min(now - sentAt, _highestTrackable);
                Histogram.RecordValue(latency);
                MaxLatency = Math.Max(MaxLatency, latency);
            }
        }
    }

    /// <summary>Messages no longer in flight (echoed, abandoned, or their connection closed).</summary>
    internal void Retire(long messages)
    {
        InFlight -= messages;
        if (Stopping && InFlight <= 0)
        {
            Loop.Stop();
        }
    }

    internal void ConnectionClosed()
    {
        if (--Alive == 0)
        {
            EndWindow();
            Loop.Stop();
        }
    }

    /// <summary>Ends the measured window (at its end, or early): stop sending, then collect what is in flight for at most 1 s.</summary>
    internal void EndWindow()
    {
        if (Stopping)
        {
            return;
        }

        Stopping = true;
        StoppedAt = Math.Min(Stopwatch.GetTimestamp(), WindowEnd);
        if (InFlight <= 0)
        {
            Loop.Stop();
            return;
        }

        Loop.CallLater(s_drainLimit, static s =>
        {
            var run = (LoadRun)s!;
            run.DrainTimedOut = run.InFlight > 0;
            run.Loop.Stop();
        }, this);
    }

    /// <summary>Prints the first few failures on stderr (a dying server would otherwise flood it).</summary>
    internal void Report(string message)
    {
        if (_reported++ < MaxReportedFailures)
        {
            Console.Error.WriteLine($"eventio bench: {message}");
        }
    }

    internal static long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    internal static double ToMicroseconds(long ticks) => ticks * 1e6 / Stopwatch.Frequency;

    internal static double ToSeconds(long ticks) => (double)ticks / Stopwatch.Frequency;
}
