using System.IO.Pipelines;
using EventIO.Async;

namespace EventIO;

/// <summary>
/// The loop as an await target: its <see cref="System.Threading.SynchronizationContext"/> and
/// <see cref="System.Threading.Tasks.TaskScheduler"/>, <c>InvokeAsync</c> from any thread, <see cref="Delay"/>
/// on the loop's timers, and the bookkeeping that completes pending awaits as cancelled when the loop is disposed.
/// </summary>
public sealed partial class EventLoop
{
    private static readonly Action<object?> s_untrack = static s => ((ILoopOperation)s!).Loop.Untrack((ILoopOperation)s);

    private readonly HashSet<ILoopOperation> _pendingOperations = new(ReferenceEqualityComparer.Instance);
    private readonly Queue<PostedWork> _lateWork = new(); // continuations posted by the loop thread during Dispose
    private LoopSynchronizationContext? _synchronizationContext;
    private LoopTaskScheduler? _taskScheduler;
    private LoopPipeScheduler? _pipeScheduler;
    private LoopMemoryPool? _pipeMemory;
    private System.Threading.SynchronizationContext? _outerContext; // the thread's context before Enter
    private volatile bool _disposing;

    /// <summary>
    /// The loop's <see cref="System.Threading.SynchronizationContext"/>: <c>Post</c> runs the callback on the
    /// loop thread in a coming turn (as <see cref="Post(Action)"/>). It is <see cref="System.Threading.SynchronizationContext.Current"/>
    /// on the loop thread while the loop runs (inside <see cref="Run"/>, <see cref="RunOnce"/> and
    /// <see cref="Dispose"/>), so an <c>await</c> in a handler, timer, posted action or in code started by
    /// <c>InvokeAsync</c> resumes on the loop thread, without locks. Any thread.
    /// </summary>
    /// <remarks>
    /// Once the loop is being disposed it accepts no more posts: a callback posted then by the loop thread (a
    /// continuation of an await that Dispose cancelled) runs in Dispose's last rounds; one posted from another
    /// thread, or still queued after those rounds, runs on the thread pool. So an await never hangs on a dead
    /// loop; loop-only members then find their objects closed.
    /// </remarks>
    public System.Threading.SynchronizationContext SynchronizationContext
    {
        get
        {
            if (_synchronizationContext is { } context)
            {
                return context;
            }

            Interlocked.CompareExchange(ref _synchronizationContext, new LoopSynchronizationContext(this), null);
            return _synchronizationContext;
        }
    }

    /// <summary>
    /// A <see cref="System.Threading.Tasks.TaskScheduler"/> that runs tasks on the loop thread (one at a time,
    /// in a coming turn): <c>Task.Factory.StartNew(work, token, options, loop.TaskScheduler)</c>. Any thread.
    /// After the loop is disposed, tasks queued to it run on the thread pool (see <see cref="SynchronizationContext"/>).
    /// </summary>
    public TaskScheduler TaskScheduler
    {
        get
        {
            if (_taskScheduler is { } scheduler)
            {
                return scheduler;
            }

            Interlocked.CompareExchange(ref _taskScheduler, new LoopTaskScheduler(this), null);
            return _taskScheduler;
        }
    }

    /// <summary>The loop as a pipe scheduler: continuations posted to it (no allocation). Loop thread.</summary>
    internal PipeScheduler PipeScheduler => _pipeScheduler ??= new LoopPipeScheduler(this);

    /// <summary>The blocks of this loop's connection pipes (made with the first pipe). Loop thread.</summary>
    internal LoopMemoryPool PipeMemory => _pipeMemory ??= new LoopMemoryPool();

    /// <summary>True from the moment <see cref="Dispose"/> begins: new awaitable operations complete as cancelled at once.</summary>
    internal bool IsDisposing => _disposing;

    /// <summary>
    /// Runs <paramref name="action"/> on the loop thread in a coming turn and returns a task that completes when
    /// it has run, with its exception if it threw. Any thread (from the loop thread it is queued too, never run
    /// inline). The caller's continuations never run on the loop thread unless the caller awaited there.
    /// </summary>
    /// <returns>The task; cancelled if the loop is disposed (or disposing) and will never run the action.</returns>
    public Task InvokeAsync(Action action) => InvokeAsync(action, CancellationToken.None);

    /// <summary>
    /// As <see cref="InvokeAsync(Action)"/>; if <paramref name="cancellationToken"/> is cancelled before the action
    /// starts, the action never runs and the task is cancelled. Any thread.
    /// </summary>
    public Task InvokeAsync(Action action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(action);
        return Invocation<object?>.Start(this, action, static a =>
        {
            ((Action)a!)();
            return null;
        }, cancellationToken);
    }

    /// <summary>As <see cref="InvokeAsync(Action)"/>, completing with <paramref name="function"/>'s result.</summary>
    public Task<TResult> InvokeAsync<TResult>(Func<TResult> function) => InvokeAsync(function, CancellationToken.None);

    /// <summary>As <see cref="InvokeAsync(Action, CancellationToken)"/>, completing with <paramref name="function"/>'s result.</summary>
    public Task<TResult> InvokeAsync<TResult>(Func<TResult> function, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(function);
        return Invocation<TResult>.Start(this, function, static f => ((Func<TResult>)f!)(), cancellationToken);
    }

    /// <summary>
    /// Starts the asynchronous <paramref name="function"/> on the loop thread in a coming turn (its awaits resume
    /// on the loop) and returns a task that completes when the task it returned completes, with the same outcome.
    /// Any thread. Cancelled as <see cref="InvokeAsync(Action)"/>.
    /// </summary>
    public Task InvokeAsync(Func<Task> function) => InvokeAsync(function, CancellationToken.None);

    /// <summary>As <see cref="InvokeAsync(Func{Task})"/>; cancelled without running if <paramref name="cancellationToken"/> is cancelled before it starts.</summary>
    public Task InvokeAsync(Func<Task> function, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(function);
        return Invocation<object?>.StartAsync(this, function, static async f =>
        {
            await ((Func<Task>)f!)();
            return null;
        }, cancellationToken);
    }

    /// <summary>As <see cref="InvokeAsync(Func{Task})"/>, completing with the result of the task <paramref name="function"/> returned.</summary>
    public Task<TResult> InvokeAsync<TResult>(Func<Task<TResult>> function) => InvokeAsync(function, CancellationToken.None);

    /// <summary>As <see cref="InvokeAsync(Func{Task}, CancellationToken)"/>, completing with the result of the task <paramref name="function"/> returned.</summary>
    public Task<TResult> InvokeAsync<TResult>(Func<Task<TResult>> function, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(function);
        return Invocation<TResult>.StartAsync(this, function, static f => ((Func<Task<TResult>>)f!)(), cancellationToken);
    }

    /// <summary>
    /// A task that completes on the loop thread once <paramref name="delay"/> has passed on the loop's timers
    /// (monotonic clock, never early; zero: the next turn; <see cref="Timeout.InfiniteTimeSpan"/>: only
    /// cancellation ends it). Loop thread only, like <see cref="CallLater(TimeSpan, Action)"/>.
    /// </summary>
    /// <returns>The task; cancelled when <paramref name="cancellationToken"/> is cancelled (from any thread) or the loop is disposed first.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative (other than infinite).</exception>
    /// <exception cref="InvalidOperationException">Not on the loop thread.</exception>
    public Task Delay(TimeSpan delay, CancellationToken cancellationToken = default)
    {
        if (delay != Timeout.InfiniteTimeSpan)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        }

        ThrowIfNotOnLoopThread();
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        if (_disposing || _disposed)
        {
            return Task.FromCanceled(new CancellationToken(canceled: true));
        }

        return DelayOperation.Start(this, delay, cancellationToken);
    }

    /// <summary>
    /// Posts <paramref name="action"/>. If the loop no longer accepts posts (it is being disposed): from the loop
    /// thread, inside <see cref="Dispose"/>, it runs in Dispose's last rounds (never inline, so an await loop cannot
    /// recurse); from another thread, or if still queued after those rounds, on the thread pool. A continuation is
    /// never dropped. Any thread.
    /// </summary>
    internal void PostOrRun(Action<object?> action, object? state)
    {
        if (_posted.TryEnqueue(new PostedWork(action, state), wake: !_ownership.IsActiveHere))
        {
            return;
        }

        if (_ownership.IsActiveHere && !_disposed)
        {
            _lateWork.Enqueue(new PostedWork(action, state));
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(action, state, preferLocal: false);
        }
    }

    /// <summary>True on the thread inside <see cref="Run"/>, <see cref="RunOnce"/> or <see cref="Dispose"/> right now.</summary>
    internal bool IsActiveHere => _ownership.IsActiveHere;

    /// <summary>Remembers an awaitable operation to cancel if the loop is disposed before it completes. Loop thread.</summary>
    internal void Track(ILoopOperation operation) => _pendingOperations.Add(operation);

    /// <summary>Forgets a completed operation: at once on the loop thread, else through the post queue. Any thread.</summary>
    internal void Untrack(ILoopOperation operation)
    {
        if (_ownership.IsOwner)
        {
            _pendingOperations.Remove(operation);
        }
        else
        {
            Post(s_untrack, operation); // refused only while disposing, which cancels and forgets them all
        }
    }

    private void BeginDisposal() => _disposing = true;

    // Dispose, on the loop thread: one round of the continuations posted since the post queue closed.
    private int RunLateWork()
    {
        int count = _lateWork.Count; // those they post wait for the next round
        for (int i = 0; i < count; i++)
        {
            PostedWork work = _lateWork.Dequeue();
            Invoke(work.Action, work.State);
        }

        return count;
    }

    // After Dispose's last round: what an endless chain of awaits still queued runs on the thread pool.
    private void AbandonLateWork()
    {
        while (_lateWork.TryDequeue(out PostedWork work))
        {
            ThreadPool.UnsafeQueueUserWorkItem(work.Action, work.State, preferLocal: false);
        }
    }

    // Dispose, on the loop thread, after every handler was closed: what is still awaited completes as cancelled.
    private void CancelPendingOperations()
    {
        while (_pendingOperations.Count > 0)
        {
            ILoopOperation[] pending = [.. _pendingOperations];
            _pendingOperations.Clear();
            foreach (ILoopOperation operation in pending)
            {
                try
                {
                    operation.CancelForDisposal();
                }
                catch (Exception ex)
                {
                    EventLoopLog.CallbackFailed(_logger, ex);
                }
            }
        }
    }

    private void InstallSynchronizationContext()
    {
        _outerContext = System.Threading.SynchronizationContext.Current;
        System.Threading.SynchronizationContext.SetSynchronizationContext(SynchronizationContext);
    }

    private void RestoreSynchronizationContext()
    {
        System.Threading.SynchronizationContext.SetSynchronizationContext(_outerContext);
        _outerContext = null;
    }
}
