using EventIO.Async;

namespace EventIO.Work;

/// <summary>
/// One <see cref="WorkerPool.RunAsync"/>: the work, its cancellation and the task completed on the loop that
/// queued it (or cancelled, if that loop is disposed first).
/// </summary>
/// <remarks><b>Threading:</b> executed on a worker; completed, cancelled and tracked on the loop thread.</remarks>
internal sealed class PoolOperation<TResult> : TaskCompletionSource<TResult>, ILoopOperation
{
    private static readonly Action<object?> s_cancelOnLoop = static s => ((PoolOperation<TResult>)s!).CancelOnLoop();
    private static readonly Action<object?> s_cancelRequested = static s => ((PoolOperation<TResult>)s!).Loop.Post(s_cancelOnLoop, s); // refused only while the loop is disposed, which cancels it

    private readonly Func<TResult> _work;
    private readonly CancellationToken _cancellationToken;
    private CancellationTokenRegistration _registration;

    internal PoolOperation(EventLoop loop, Func<TResult> work, CancellationToken cancellationToken)
    {
        Loop = loop;
        _work = work;
        _cancellationToken = cancellationToken;
    }

    /// <summary>Runs the work on a worker, unless it was cancelled before it started.</summary>
    internal static Func<PoolOperation<TResult>, TResult> Execute { get; } = static operation => operation.Run();

    /// <summary>Completes the task on the loop thread with the work's outcome.</summary>
    internal static Action<PoolOperation<TResult>, WorkResult<TResult>> Complete { get; } = static (operation, result) => operation.OnCompleted(result);

    /// <inheritdoc/>
    public EventLoop Loop { get; }

    /// <summary>Tracks the operation on its loop and watches the token. Loop thread, once queued.</summary>
    internal void Start()
    {
        Loop.Track(this);
        if (_cancellationToken.CanBeCanceled)
        {
            _registration = _cancellationToken.UnsafeRegister(s_cancelRequested, this);
        }
    }

    /// <inheritdoc/>
    public void CancelForDisposal()
    {
        _registration.Dispose();
        TrySetCanceled();
    }

    private TResult Run()
    {
        if (_cancellationToken.IsCancellationRequested || Task.IsCompleted)
        {
            throw new OperationCanceledException(_cancellationToken); // cancelled while queued: never run
        }

        return _work();
    }

    private void OnCompleted(WorkResult<TResult> result)
    {
        Finish();
        if (result.IsSuccess)
        {
            TrySetResult(result.Value!);
        }
        else if (result.Exception is OperationCanceledException cancelled)
        {
            TrySetCanceled(_cancellationToken.IsCancellationRequested ? _cancellationToken : cancelled.CancellationToken);
        }
        else
        {
            TrySetException(result.Exception);
        }
    }

    private void CancelOnLoop()
    {
        if (TrySetCanceled(_cancellationToken))
        {
            Finish(); // a worker may still be running it: its result will be dropped
        }
    }

    private void Finish()
    {
        _registration.Dispose();
        Loop.Untrack(this);
    }
}
