namespace EventIO.Work;

/// <summary>
/// Runs blocking or CPU-heavy work on dedicated threads and hands each result back to the loop that asked
/// for it: the recipe's <c>ThreadPoolHandler</c>. Results return through that loop's posted-action queue and
/// its one coalesced eventfd wake-up (the recipe's socket pair and pending list). One pool can serve many
/// loops.
/// </summary>
/// <remarks>
/// <para><b>Bounded:</b> at most <see cref="QueueCapacity"/> items wait for a worker; when the queue is full
/// <see cref="TryRun{TState, TResult}"/> returns false at once instead of letting the queue grow.</para>
/// <para><b>Failures:</b> an exception thrown by the work reaches its callback in
/// <see cref="WorkResult{T}.Exception"/>; no callback is ever lost while the loop lives.</para>
/// <para><b>Threading:</b> <see cref="TryRun{TState, TResult}"/> on a loop thread (inside
/// <see cref="EventLoop.Run"/> or <see cref="EventLoop.RunOnce"/>); the callback runs on that same loop.
/// Workers are background threads named <c>eventio-worker-N</c>. On Linux they run at a lower priority than
/// the loop (<see cref="WorkerPriority"/>), so that when CPU-heavy work shares a core with the loop thread,
/// the loop still gets the CPU it needs to answer everyone else: the recipe's promise that slow work does
/// not stall the loop. The default, <see cref="WorkerPriority.Adaptive"/>, starts them under SCHED_IDLE and
/// promotes work that other programs starve (see <see cref="AdaptiveWorkerPolicy"/>); plain
/// <see cref="WorkerPriority.Idle"/> workers get almost no CPU on a machine whose CPUs other programs keep busy.</para>
/// </remarks>
public sealed partial class WorkerPool : IDisposable
{
    /// <summary>The nice value of <see cref="WorkerPriority.Low"/> workers.</summary>
    public const int LowPriorityNice = 10;

    private readonly Queue<WorkItem> _queue = new();
    private readonly Thread[] _workers;
    private readonly List<Thread> _retiredThreads = []; // replaced workers' threads, under _gate
    private readonly int[] _workerTids; // kernel ids of live idle-policy workers (0: none); under _gate
    private readonly bool[] _workerBusy; // true while worker i runs an item; under _gate
    private readonly object _gate = new();
    private readonly WorkerPriority _priority;
    private readonly WorkerGovernor? _governor; // Adaptive only
    private int _queued; // _queue.Count, written under _gate, readable without it
    private volatile bool _shutdown; // written under _gate; read without it by IsShutDown
    private int _running;
    private long _completed; // items run, failed ones included
    private long _failed;    // items whose work threw
    private long _rejected;  // TryRun refused: the queue was full

    /// <summary>As the other constructor, with the default knobs of <see cref="WorkerPriority.Adaptive"/> (kept for binary compatibility).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count or the priority is out of range.</exception>
    public WorkerPool(int workerCount, int queueCapacity, WorkerPriority priority)
        : this(workerCount, queueCapacity, priority, null)
    {
    }

    /// <summary>
    /// Starts <paramref name="workerCount"/> workers (16, as the recipe; 1..1024) with a queue of
    /// <paramref name="queueCapacity"/> (1024), at <paramref name="priority"/> (<see cref="WorkerPriority.Adaptive"/>:
    /// idle priority while the loops need the CPU, a fair share while other programs would starve the work; see
    /// the remarks), with the knobs of <see cref="WorkerPriority.Adaptive"/> in <paramref name="adaptivePolicy"/>
    /// (null: <see cref="AdaptiveWorkerPolicy.Default"/>; ignored for other priorities).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A count, the priority or a knob of <paramref name="adaptivePolicy"/> is out of range.</exception>
    public WorkerPool(int workerCount = 16, int queueCapacity = 1024, WorkerPriority priority = WorkerPriority.Adaptive, AdaptiveWorkerPolicy? adaptivePolicy = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workerCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(workerCount, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(queueCapacity, 1);
        if (!Enum.IsDefined(priority))
        {
            throw new ArgumentOutOfRangeException(nameof(priority), priority, "Unknown worker priority.");
        }

        adaptivePolicy?.Validate();
        _priority = priority;
        if (priority == WorkerPriority.Adaptive && OperatingSystem.IsLinux())
        {
            _governor = new WorkerGovernor(this, workerCount, adaptivePolicy ?? AdaptiveWorkerPolicy.Default);
        }

        QueueCapacity = queueCapacity;
        _workers = new Thread[workerCount];
        _workerTids = new int[workerCount];
        _workerBusy = new bool[workerCount];
        for (int i = 0; i < workerCount; i++)
        {
            _workers[i] = new Thread(WorkerMain) { IsBackground = true, Name = $"eventio-worker-{i}" };
            _workers[i].Start(i);
        }
    }

    /// <summary>How the workers compete with the loop for the CPU.</summary>
    public WorkerPriority Priority => _priority;

    /// <summary>
    /// Times a starving worker was promoted from SCHED_IDLE (<see cref="WorkerPriority.Adaptive"/>; 0 otherwise).
    /// Any thread.
    /// </summary>
    public long Promotions => _governor?.Promotions ?? 0;

    /// <summary>Times a promoted worker was sent back to SCHED_IDLE because a loop waited for a CPU. Any thread.</summary>
    public long Demotions => _governor?.Demotions ?? 0;

    /// <summary>
    /// True if this process may not leave SCHED_IDLE (no CAP_SYS_NICE, RLIMIT_NICE below 20 − the promoted nice),
    /// probed once at start (<see cref="WorkerPriority.Adaptive"/>): items then start at the normal policy and
    /// drop to SCHED_IDLE for good when a loop waits. Any thread.
    /// </summary>
    public bool PromotionRefused => _governor?.PromotionRefused ?? false;

    /// <summary>
    /// Worker threads retired because their item was sent to SCHED_IDLE for good (no privilege to leave it)
    /// and replaced by fresh ones (<see cref="WorkerPriority.Adaptive"/>). Any thread.
    /// </summary>
    public long RetiredWorkers => _governor?.Retired ?? 0;

    /// <summary>The number of worker threads.</summary>
    public int WorkerCount => _workers.Length;

    /// <summary>The most items that may wait for a worker.</summary>
    public int QueueCapacity { get; }

    /// <summary>Items waiting for a worker now. Any thread; without a lock, so it may already be stale.</summary>
    public int QueuedCount => Volatile.Read(ref _queued);

    /// <summary>True while the queue holds <see cref="QueueCapacity"/> items: <see cref="TryRun{TState, TResult}"/> would refuse. Any thread; advisory, as <see cref="QueuedCount"/>.</summary>
    public bool IsFull => QueuedCount >= QueueCapacity;

    /// <summary>Workers registered as running under SCHED_IDLE (for tests).</summary>
    internal int IdlePolicyWorkers
    {
        get
        {
            lock (_gate)
            {
                return _workerTids.Count(tid => tid > 0);
            }
        }
    }

    /// <summary>Waiting idle-policy workers that <see cref="Shutdown"/> returned to the normal policy (for tests).</summary>
    internal int WorkersReturnedToNormalPolicy { get; private set; }

    /// <summary>True once <see cref="Shutdown"/> has been called: <see cref="TryRun{TState, TResult}"/> refuses all work from then on. Any thread.</summary>
    public bool IsShutDown => _shutdown;

    /// <summary>Items being run by a worker now. Any thread.</summary>
    internal int RunningCount => Volatile.Read(ref _running);

    /// <summary>Items a worker has run (failed ones included). Any thread.</summary>
    public long CompletedCount => Interlocked.Read(ref _completed);

    /// <summary>Items whose work threw. Any thread.</summary>
    internal long FailedCount => Interlocked.Read(ref _failed);

    /// <summary>Items <see cref="TryRun{TState, TResult}"/> refused because the queue was full (not counting refusals after shutdown). Any thread.</summary>
    internal long RejectedCount => Interlocked.Read(ref _rejected);

    /// <summary>
    /// Queues <paramref name="work"/>; <paramref name="onCompleted"/> later runs on the calling loop's thread
    /// with its result or exception.
    /// </summary>
    /// <returns>False, at once, if the queue is full or the pool is shut down; the work is then not run.</returns>
    /// <exception cref="InvalidOperationException">Not called on a loop thread (<see cref="EventLoop.Current"/> is null).</exception>
    public bool TryRun<TResult>(Func<TResult> work, Action<WorkResult<TResult>> onCompleted)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(onCompleted);
        return TryRun((work, onCompleted), static s => s.work(), static (s, result) => s.onCompleted(result));
    }

    /// <summary>
    /// Queues <paramref name="work"/>(<paramref name="state"/>); <paramref name="onCompleted"/> later runs on
    /// the calling loop's thread with the same state and the result or exception. Static lambdas keep it
    /// closure-free.
    /// </summary>
    /// <returns>False, at once, if the queue is full or the pool is shut down; the work is then not run.</returns>
    /// <exception cref="InvalidOperationException">Not called on a loop thread (<see cref="EventLoop.Current"/> is null).</exception>
    public bool TryRun<TState, TResult>(TState state, Func<TState, TResult> work, Action<TState, WorkResult<TResult>> onCompleted)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(onCompleted);
        EventLoop loop = EventLoop.Current
            ?? throw new InvalidOperationException("WorkerPool.TryRun must be called on a loop thread: the callback runs on the loop that queued the work.");
        if (IsFull || _shutdown)
        {
            return Refuse(); // refused before anything is built: a flood of refused work allocates nothing
        }

        lock (_gate)
        {
            if (_shutdown || _queue.Count >= QueueCapacity)
            {
                return Refuse();
            }

            _queue.Enqueue(new WorkItem<TState, TResult>(loop, state, work, onCompleted));
            Volatile.Write(ref _queued, _queue.Count);
            Monitor.Pulse(_gate);
        }

        _governor?.WorkQueued(Interop.ThreadScheduling.CurrentThreadIdCached);
        loop.TraceWorkQueued(work);

        return true;
    }

    /// <summary>
    /// Stops the workers: queued work is cancelled (its callbacks get an <see cref="OperationCanceledException"/>
    /// on their loops), running work is waited for until <paramref name="timeout"/>
    /// (<see cref="Timeout.InfiniteTimeSpan"/>: as long as it takes). Idle-policy workers with nothing left to
    /// run are returned to the normal policy (where the process may: CAP_SYS_NICE or RLIMIT_NICE), so that on
    /// a busy machine they, and the process, can still exit promptly; work still running keeps its priority.
    /// Any thread; idempotent.
    /// </summary>
    /// <returns>True if every worker exited in time.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative (other than infinite).</exception>
    public bool Shutdown(TimeSpan timeout)
    {
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        }

        foreach (WorkItem item in StopAndTakeQueued())
        {
            item.Cancel();
            item.PostCompletion();
        }

        bool exited = JoinWorkers(timeout);
        _governor?.Dispose(); // a worker still running keeps its priority; nothing samples it any more
        return exited;
    }

    /// <summary>Same as <see cref="Shutdown"/> with a 5 second deadline.</summary>
    public void Dispose() => Shutdown(TimeSpan.FromSeconds(5));

    /// <summary>
    /// Starts a fresh thread in worker slot <paramref name="index"/>, whose thread retired (the governor, from
    /// its normal-priority thread: a thread inherits its creator's policy). Nothing once shut down.
    /// </summary>
    internal void StartWorker(int index)
    {
        lock (_gate)
        {
            if (_shutdown)
            {
                return;
            }

            _retiredThreads.RemoveAll(t => !t.IsAlive);
            _retiredThreads.Add(_workers[index]); // may still be exiting: joined at shutdown too
            _workers[index] = new Thread(WorkerMain) { IsBackground = true, Name = $"eventio-worker-{index}" };
            _workers[index].Start(index);
        }
    }

    private bool Refuse()
    {
        if (!_shutdown)
        {
            Interlocked.Increment(ref _rejected);
        }

        return false;
    }

    private WorkItem[] StopAndTakeQueued()
    {
        lock (_gate)
        {
            if (_shutdown && _queue.Count == 0)
            {
                return [];
            }

            _shutdown = true;
            WorkItem[] queued = [.. _queue];
            _queue.Clear();
            Volatile.Write(ref _queued, 0);
            Monitor.PulseAll(_gate);
            LeaveIdlePolicy();
            return queued;
        }
    }

    private bool JoinWorkers(TimeSpan timeout)
    {
        bool forever = timeout == Timeout.InfiniteTimeSpan;
        long deadline = forever ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        bool allExited = true;
        Thread[] threads;
        lock (_gate)
        {
            threads = [.. _workers, .. _retiredThreads];
        }

        foreach (Thread worker in threads)
        {
            if (worker == Thread.CurrentThread)
            {
                continue;
            }

            int left = forever ? Timeout.Infinite : (int)Math.Clamp(deadline - Environment.TickCount64, 0, int.MaxValue);
            allExited &= worker.Join(left);
        }

        return allExited;
    }

    // A SCHED_IDLE thread gets almost no CPU while anything else is runnable, and a process cannot finish
    // exiting until every one of its threads has run once more: on a saturated machine, idle workers
    // held `serve`'s exit for seconds. So shutdown returns the workers that are only waiting (they have
    // nothing left to do but exit) to the normal policy, where permitted (CAP_SYS_NICE or RLIMIT_NICE);
    // a worker still running an item keeps the priority its work was given. Registering, leaving and the
    // shutdown all happen under _gate, so a thread id is only used while its worker is alive.
    private void EnterIdlePolicy(int index)
    {
        if (!Interop.ThreadScheduling.TrySetIdlePolicy(out int tid))
        {
            return;
        }

        lock (_gate)
        {
            if (_shutdown)
            {
                Interop.ThreadScheduling.TrySetNormalPolicy(tid);
            }
            else
            {
                _workerTids[index] = tid;
            }
        }
    }

    // Under _gate.
    private void LeaveIdlePolicy()
    {
        for (int i = 0; i < _workerTids.Length; i++)
        {
            if (_workerTids[i] > 0 && !_workerBusy[i] && Interop.ThreadScheduling.TrySetNormalPolicy(_workerTids[i]))
            {
                WorkersReturnedToNormalPolicy++;
            }
        }
    }

    private void WorkerMain(object? index)
    {
        int me = (int)index!;
        if (_priority == WorkerPriority.Low)
        {
            Interop.ThreadScheduling.TrySetNice(LowPriorityNice);
        }
        else if (_priority == WorkerPriority.Idle)
        {
            EnterIdlePolicy(me);
        }
        else if (_governor is not null)
        {
            _governor.RegisterWorker(me, Interop.ThreadScheduling.CurrentThreadIdCached);
        }

        while (true)
        {
            WorkItem item;
            lock (_gate)
            {
                _workerBusy[me] = false;
                while (_queue.Count == 0 && !_shutdown)
                {
                    Monitor.Wait(_gate);
                }

                if (_queue.Count == 0)
                {
                    _workerTids[me] = 0;
                    _governor?.RegisterWorker(me, 0);
                    _workerBusy[me] = false;
                    return; // shut down and nothing left
                }

                item = _queue.Dequeue();
                _governor?.ItemDequeued();
                Volatile.Write(ref _queued, _queue.Count);
                _workerBusy[me] = true;
            }

            Interlocked.Increment(ref _running);
            _governor?.ItemStarted(me);
            bool succeeded = item.Execute();
            Interlocked.Decrement(ref _running);
            Interlocked.Increment(ref _completed);
            if (!succeeded)
            {
                Interlocked.Increment(ref _failed);
            }

            if (_governor is null)
            {
                item.PostCompletion(); // false only when its loop is gone: nobody is left to tell
            }
            else if (_governor.ItemFinished(me, item))
            {
                return; // stuck under SCHED_IDLE (no privilege to leave it): the governor posts the result and starts a fresh worker
            }
        }
    }
}
