using EventIO.Timers;

namespace EventIO.Async;

/// <summary>
/// One <see cref="EventLoop.Delay"/>: a timer on the loop's heap and the task it completes on the loop thread;
/// cancelled by its token (from any thread) or by the loop's disposal.
/// </summary>
/// <remarks><b>Threading:</b> started and completed on the loop thread; cancelled from any thread.</remarks>
internal sealed class DelayOperation : TaskCompletionSource, ILoopOperation
{
    private static readonly Action<object?> s_elapsed = static s => ((DelayOperation)s!).OnElapsed();
    private static readonly Action<object?> s_cancel = static s => ((DelayOperation)s!).OnCancelled();

    private readonly CancellationToken _cancellationToken;
    private TimerHandle? _timer;
    private CancellationTokenRegistration _registration;

    private DelayOperation(EventLoop loop, CancellationToken cancellationToken)
    {
        Loop = loop;
        _cancellationToken = cancellationToken;
    }

    /// <inheritdoc/>
    public EventLoop Loop { get; }

    /// <summary>Schedules the timer and returns the task. Loop thread.</summary>
    internal static Task Start(EventLoop loop, TimeSpan delay, CancellationToken cancellationToken)
    {
        var operation = new DelayOperation(loop, cancellationToken);
        if (delay != Timeout.InfiniteTimeSpan)
        {
            operation._timer = loop.CallLater(delay, s_elapsed, operation);
        }

        loop.Track(operation);
        if (cancellationToken.CanBeCanceled)
        {
            operation._registration = cancellationToken.UnsafeRegister(s_cancel, operation);
        }

        return operation.Task;
    }

    /// <inheritdoc/>
    public void CancelForDisposal()
    {
        _timer?.Cancel();
        _registration.Dispose();
        TrySetCanceled();
    }

    // The timer fired, on the loop thread: awaiters that resume on the loop run inline here.
    private void OnElapsed()
    {
        _registration.Dispose();
        Loop.Untrack(this);
        TrySetResult();
    }

    // Any thread.
    private void OnCancelled()
    {
        _timer?.Cancel();
        if (TrySetCanceled(_cancellationToken))
        {
            Loop.Untrack(this);
        }
    }
}
