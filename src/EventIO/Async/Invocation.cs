namespace EventIO.Async;

/// <summary>
/// One <see cref="EventLoop.InvokeAsync(Action, CancellationToken)"/>: a function posted to the loop and the task
/// its caller awaits. Continuations run asynchronously, so a caller on another thread never runs on the loop.
/// </summary>
/// <remarks><b>Threading:</b> created on any thread; run on the loop thread; cancelled from any thread.</remarks>
internal sealed class Invocation<TResult> : TaskCompletionSource<TResult>
{
    private static readonly Action<object?> s_run = static s => ((Invocation<TResult>)s!).Run();
    private static readonly Action<object?> s_cancel = static s => ((Invocation<TResult>)s!).Cancel();

    private readonly object _function;
    private readonly Func<object?, TResult>? _invoke;
    private readonly Func<object?, Task<TResult>>? _invokeAsync;
    private readonly CancellationToken _cancellationToken;
    private CancellationTokenRegistration _registration;

    private Invocation(object function, Func<object?, TResult>? invoke, Func<object?, Task<TResult>>? invokeAsync, CancellationToken cancellationToken)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        _function = function;
        _invoke = invoke;
        _invokeAsync = invokeAsync;
        _cancellationToken = cancellationToken;
    }

    /// <summary>Posts <paramref name="invoke"/>(<paramref name="function"/>) to <paramref name="loop"/>; its task completes with the result.</summary>
    internal static Task<TResult> Start(EventLoop loop, object function, Func<object?, TResult> invoke, CancellationToken cancellationToken)
        => cancellationToken.IsCancellationRequested
            ? System.Threading.Tasks.Task.FromCanceled<TResult>(cancellationToken)
            : new Invocation<TResult>(function, invoke, null, cancellationToken).Post(loop);

    /// <summary>Posts an asynchronous function; its task completes with the outcome of the task the function returns.</summary>
    internal static Task<TResult> StartAsync(EventLoop loop, object function, Func<object?, Task<TResult>> invokeAsync, CancellationToken cancellationToken)
        => cancellationToken.IsCancellationRequested
            ? System.Threading.Tasks.Task.FromCanceled<TResult>(cancellationToken)
            : new Invocation<TResult>(function, null, invokeAsync, cancellationToken).Post(loop);

    private Task<TResult> Post(EventLoop loop)
    {
        if (_cancellationToken.CanBeCanceled)
        {
            _registration = _cancellationToken.UnsafeRegister(s_cancel, this);
        }

        if (!loop.Post(s_run, this))
        {
            _registration.Dispose();
            TrySetCanceled(); // the loop is disposed (or disposing): it will never run it
        }

        return Task;
    }

    private void Cancel() => TrySetCanceled(_cancellationToken);

    // On the loop thread.
    private void Run()
    {
        _registration.Dispose();
        if (Task.IsCompleted)
        {
            return; // cancelled before it started: never run
        }

        try
        {
            if (_invoke is not null)
            {
                TrySetResult(_invoke(_function));
                return;
            }

            Task<TResult> inner = _invokeAsync!(_function);
            if (inner.IsCompleted)
            {
                Transfer(inner);
            }
            else
            {
                inner.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(() => Transfer(inner));
            }
        }
        catch (OperationCanceledException ex)
        {
            TrySetCanceled(ex.CancellationToken);
        }
        catch (Exception ex)
        {
            TrySetException(ex);
        }
    }

    private void Transfer(Task<TResult> inner)
    {
        if (inner.IsCompletedSuccessfully)
        {
            TrySetResult(inner.Result);
        }
        else if (inner.IsCanceled)
        {
            try
            {
                inner.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException ex)
            {
                TrySetCanceled(ex.CancellationToken);
            }
        }
        else
        {
            TrySetException(inner.Exception!.InnerExceptions);
        }
    }
}
