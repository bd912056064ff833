using System.Diagnostics;
using EventIO.Timers;

namespace EventIO;

/// <summary>The loop's timers: the public scheduling API and the timer phase of a turn.</summary>
public sealed partial class EventLoop
{
    private static readonly Action<object?> s_removeTimer = static s => ((TimerHandle)s!).Loop._timers.Remove((TimerHandle)s);

    /// <summary>
    /// Runs <paramref name="action"/> on the loop thread once <paramref name="delay"/> has passed on the
    /// monotonic clock: never earlier, and after every timer due at the same time scheduled before it. A
    /// zero or negative delay runs on the next turn. Loop thread only.
    /// </summary>
    public TimerHandle CallLater(TimeSpan delay, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        return CallLater(delay, s_invokeAction, action);
    }

    /// <summary>As <see cref="CallLater(TimeSpan, Action)"/>, passing <paramref name="state"/> instead of capturing it.</summary>
    public TimerHandle CallLater(TimeSpan delay, Action<object?> action, object? state)
        => CallAt(MonotonicClock.Add(Stopwatch.GetTimestamp(), MonotonicClock.ToTicks(delay)), action, state);

    /// <summary>As <see cref="CallLater(TimeSpan, Action{object?}, object?)"/>, due at a <see cref="Stopwatch.GetTimestamp"/> value (see <see cref="Now"/>). Loop thread only.</summary>
    public TimerHandle CallAt(long timestamp, Action<object?> action, object? state) => Schedule(timestamp, 0, action, state);

    /// <summary>
    /// Runs <paramref name="action"/> every <paramref name="period"/> until the handle is cancelled, the
    /// first time one period from now. A loop that falls behind (a long callback, a stopped process) skips
    /// the missed runs instead of firing them in a burst. Loop thread only.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="period"/> is not positive.</exception>
    public TimerHandle CallEvery(TimeSpan period, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        return CallEvery(period, s_invokeAction, action);
    }

    /// <summary>As <see cref="CallEvery(TimeSpan, Action)"/>, passing <paramref name="state"/> instead of capturing it.</summary>
    public TimerHandle CallEvery(TimeSpan period, Action<object?> action, object? state)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, TimeSpan.Zero);
        long ticks = MonotonicClock.ToTicks(period);
        return Schedule(MonotonicClock.Add(Stopwatch.GetTimestamp(), ticks), ticks, action, state);
    }

    /// <summary>Takes a cancelled timer out of the heap: at once on the loop thread, else through the post queue.</summary>
    internal void RemoveTimer(TimerHandle timer)
    {
        if (IsOnLoopThread)
        {
            _timers.Remove(timer);
        }
        else
        {
            Post(s_removeTimer, timer);
        }
    }

    private int RunDueTimers()
    {
        int ran = 0;
        long limit = _timers.Count == 0 ? 0 : _timers.NextSequence(); // timers scheduled while this phase runs wait a turn
        while (_timers.TryTakeDue(_now, limit, out TimerHandle? timer))
        {
            ran++;
            long elapsed = Invoke(timer.Callback, timer.State);
            _turnTrace?.TimerRan(Named(timer.Callback, timer.State), elapsed);
        }

        return ran;
    }

    private TimerHandle Schedule(long due, long period, Action<object?> action, object? state)
    {
        ArgumentNullException.ThrowIfNull(action);
        ThrowIfNotUsable();
        var timer = new TimerHandle(this, due, _timers.NextSequence(), period, action, state);
        _timers.Add(timer);
        return timer;
    }
}
