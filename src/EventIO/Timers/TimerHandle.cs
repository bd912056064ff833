namespace EventIO.Timers;

/// <summary>
/// A callback scheduled with <see cref="EventLoop.CallLater(TimeSpan, Action)"/>. Cancel it to stop it
/// from running.
/// </summary>
/// <remarks><b>Threading:</b> <see cref="Cancel"/> may be called from any thread. On the loop thread it
/// takes effect at once; from another thread it is posted to the loop, so a timer that is already due
/// may still run.</remarks>
public sealed class TimerHandle
{
    private readonly EventLoop _loop;

    internal TimerHandle(EventLoop loop, long due, long sequence, Action<object?> callback, object? state)
    {
        _loop = loop;
        Due = due;
        Sequence = sequence;
        Callback = callback;
        State = state;
    }

    /// <summary>True until the timer has run or been cancelled.</summary>
    public bool IsActive => HeapIndex >= 0;

    internal EventLoop Loop => _loop;

    internal long Due { get; }

    internal long Sequence { get; }

    internal Action<object?> Callback { get; }

    internal object? State { get; }

    /// <summary>Position in the timer heap, or -1 when not scheduled.</summary>
    internal int HeapIndex { get; set; } = -1;

    /// <summary>Stops the callback from running. Idempotent; cancelling a timer that already ran does nothing.</summary>
    public void Cancel() => _loop.CancelTimer(this);
}
