namespace EventIO.Timers;

/// <summary>
/// A callback scheduled with <see cref="EventLoop.CallLater(TimeSpan, Action)"/>,
/// <see cref="EventLoop.CallAt"/> or <see cref="EventLoop.CallEvery(TimeSpan, Action)"/>. Cancel it to
/// stop it from running.
/// </summary>
/// <remarks><b>Threading:</b> <see cref="Cancel"/> may be called from any thread, and only the loop thread
/// ever touches the timer heap: from another thread, cancelling marks the timer (checked when it comes
/// due) and posts its removal to the loop. A callback that has already started on the loop thread may
/// still be running when a cancel from another thread returns; none starts after.</remarks>
public sealed class TimerHandle
{
    private readonly EventLoop _loop;
    private volatile bool _cancelled;

    internal TimerHandle(EventLoop loop, long due, long sequence, long period, Action<object?> callback, object? state)
    {
        _loop = loop;
        Due = due;
        Sequence = sequence;
        Period = period;
        Callback = callback;
        State = state;
    }

    /// <summary>True until the timer has run (a repeating one: until cancelled) or been cancelled. Any thread; may be stale.</summary>
    public bool IsActive => !_cancelled && HeapIndex >= 0;

    /// <summary>True once <see cref="Cancel"/> has been called.</summary>
    public bool IsCancelled => _cancelled;

    /// <summary>The loop whose heap holds it.</summary>
    internal EventLoop Loop => _loop;

    /// <summary>When it is due (Stopwatch timestamp).</summary>
    internal long Due { get; set; }

    /// <summary>Orders timers with equal due times: the order they were (re)scheduled in.</summary>
    internal long Sequence { get; set; }

    /// <summary>The interval of a repeating timer in Stopwatch ticks; 0 for a one-shot timer.</summary>
    internal long Period { get; }

    internal Action<object?> Callback { get; }

    internal object? State { get; }

    /// <summary>Position in the timer heap, or -1 when not scheduled. Loop thread only.</summary>
    internal int HeapIndex { get; set; } = -1;

    /// <summary>Stops the callback from running (a repeating timer: ever again). Any thread; idempotent.</summary>
    public void Cancel()
    {
        if (_cancelled)
        {
            return;
        }

        _cancelled = true;
        _loop.RemoveTimer(this);
    }
}
