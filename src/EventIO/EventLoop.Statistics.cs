using System.Diagnostics;

namespace EventIO;

/// <summary>
/// What the loop counts about itself, for <see cref="Diagnostics.EventIOMetrics"/>: turns, and busy time (as
/// libuv's <c>uv_metrics_idle_time</c> and Node's event-loop utilisation, the other way round).
/// </summary>
/// <remarks>
/// <b>Cost:</b> one clock read per turn, before the wait (the loop already reads the clock after it), two
/// additions and an increment. Written by the loop thread only; read from any thread (a monitoring thread
/// may see a value up to a turn old, never a torn one: 64-bit fields).
/// </remarks>
public sealed partial class EventLoop
{
    private long _turns;
    private long _busyTicks; // time spent running, not waiting in the poller (Stopwatch ticks)
    private long _busySince; // when the time now being spent began: the end of the last wait, or Run/RunOnce's start

    /// <summary>Turns run so far. Any thread.</summary>
    internal long TurnCount => Volatile.Read(ref _turns);

    /// <summary>Time spent inside <see cref="Run"/>, <see cref="RunOnce"/> or <see cref="Dispose"/> not waiting in the poller, up to the last wait. Any thread.</summary>
    internal TimeSpan BusyTime => Stopwatch.GetElapsedTime(0, Volatile.Read(ref _busyTicks));

    /// <summary>Actions posted and not yet taken by the loop. Any thread.</summary>
    internal int PostedCount => _posted.PendingCount;

    // Around the wait of a turn: the time since the last wait ended was busy; the wait itself is not.
    private void BeforeWait(long now) => _busyTicks += now - _busySince;

    private void AfterWait(long now)
    {
        _busySince = now;
        _turns++;
    }

    // Run, RunOnce and Dispose: the time between two of them is neither busy nor idle.
    private void BusyFrom(long now) => _busySince = now;

    private void BusyUntil(long now) => _busyTicks += now - _busySince;
}
