namespace EventIO.Work;

/// <summary>The recipe's <c>ThreadPoolHandler</c> as one await: <see cref="RunAsync"/>.</summary>
public sealed partial class WorkerPool
{
    /// <summary>
    /// Queues <paramref name="work"/> on a worker and returns a task that completes on the calling loop's thread
    /// with its result or exception: <c>long f = await pool.RunAsync(() => Fib(n));</c> resumes on the loop, so
    /// the code after the await needs no locks.
    /// </summary>
    /// <returns>
    /// The task. Faulted with <see cref="WorkerPoolFullException"/> at once if the queue is full (the work is not
    /// run). Cancelled if the pool is shut down before a worker takes the work, if <paramref name="cancellationToken"/>
    /// is cancelled first (work not yet started is then never run; work already running finishes and its result
    /// is dropped), or if the loop is disposed before the result comes back.
    /// </returns>
    /// <exception cref="InvalidOperationException">Not called on a loop thread (<see cref="EventLoop.Current"/> is null).</exception>
    public Task<TResult> RunAsync<TResult>(Func<TResult> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        EventLoop loop = EventLoop.Current
            ?? throw new InvalidOperationException("WorkerPool.RunAsync must be called on a loop thread: its task completes on the loop that queued the work.");
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<TResult>(cancellationToken);
        }

        if (_shutdown || loop.IsDisposing)
        {
            return Task.FromCanceled<TResult>(new CancellationToken(canceled: true));
        }

        if (IsFull)
        {
            return Task.FromException<TResult>(new WorkerPoolFullException(QueueCapacity)); // refused before anything is queued
        }

        var operation = new PoolOperation<TResult>(loop, work, cancellationToken);
        if (!TryRun(operation, PoolOperation<TResult>.Execute, PoolOperation<TResult>.Complete))
        {
            return _shutdown
                ? Task.FromCanceled<TResult>(new CancellationToken(canceled: true))
                : Task.FromException<TResult>(new WorkerPoolFullException(QueueCapacity));
        }

        operation.Start(); // its completion is posted to this loop: it cannot run before this returns
        return operation.Task;
    }
}
