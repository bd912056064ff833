using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using EventIO.Diagnostics;
using EventIO.Polling;
using EventIO.Timers;
using Microsoft.Extensions.Logging;

namespace EventIO;

/// <summary>
/// The recipe's <c>event_loop</c>: owns a set of <see cref="IEventHandler"/>s, waits for their handles to
/// become ready and dispatches <see cref="IEventHandler.HandleReceive"/> and <see cref="IEventHandler.HandleSend"/>;
/// also runs timers and actions posted from other threads.
/// </summary>
/// <remarks>
/// <para><b>A turn</b> (<see cref="RunTurn"/>, <c>docs/design.md</c>): sync interest → wait → dispatch →
/// timers → posted actions. Only handlers that were dispatched, added or passed to <see cref="Update"/>
/// have their wants re-read, and the kernel is told only what changed: a turn costs O(ready).</para>
/// <para><b>Threading:</b> the loop thread is the one inside <see cref="Run"/> or <see cref="RunOnce"/>;
/// before the loop first runs, the thread that created it; after, the thread that ran it last.
/// <see cref="Post(Action)"/>, <see cref="Stop"/>, <see cref="TimerHandle.Cancel"/>, <c>InvokeAsync</c> and the
/// read-only properties may be called from any thread; every other member throws
/// <see cref="InvalidOperationException"/> on another thread instead of racing. While the loop runs, its
/// <see cref="SynchronizationContext"/> is current on its thread, so an <c>await</c> in a callback resumes there.</para>
/// <para><b>Errors:</b> a handler that throws is logged, removed and closed; a throwing timer or posted
/// action is logged; the loop carries on. A failing poller (anything but EINTR) is a broken invariant and
/// is thrown out of <see cref="Run"/>.</para>
/// </remarks>
public sealed partial class EventLoop : IDisposable
{
    // Dispose runs what was posted before it; actions that keep posting get this many rounds.
    private const int DisposeDrainRounds = 16;

    private static readonly Action<object?> s_invokeAction = static s => ((Action)s!)();
    private static int s_lastId = -1;

    private readonly LoopOwnership _ownership = new();
    private readonly Registry _registry;
    private readonly PostQueue _posted;
    private readonly TimerQueue _timers = new();
    private readonly SlowCallbackMonitor _slow;
    private readonly ReadyEvent[] _events;
    private readonly byte[] _receiveBuffer;
    private readonly ILogger _logger;
    private readonly LoopTrace _trace;
    private LoopTrace? _turnTrace; // _trace while the turn now running is traced, else null
    private volatile bool _stopRequested;
    private volatile bool _disposed;
    private long _now;
    private bool _timersDeferred; // the clock jumped last turn: its timers run this turn, after a poll that does not wait

    /// <summary>Creates a loop with its poller and waker, owned by the calling thread until a thread runs it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="PlatformNotSupportedException">Not on Linux.</exception>
    public EventLoop(EventLoopOptions? options = null)
    {
        options ??= new EventLoopOptions();
        options.Validate();
        _logger = options.Logger ?? StderrLogger.Instance;
        _slow = new SlowCallbackMonitor(_logger, options.SlowCallbackThreshold);
        _events = new ReadyEvent[options.MaxEventsPerTurn];
        _receiveBuffer = GC.AllocateUninitializedArray<byte>(options.ReceiveBufferSize, pinned: true);
        _posted = new PostQueue();
        Id = Interlocked.Increment(ref s_lastId);
        _trace = new LoopTrace(this, Id, options.Tracer);
        try
        {
            _registry = new Registry(PollerFactory.Create(options.Backend, options.MaxEventsPerTurn, out string? fallback), _logger, OnHandlerFailed);
            if (fallback is not null && PollerFactory.FirstFallback())
            {
                EventLoopLog.BackendFallback(_logger, fallback);
            }

            _registry.Add(_posted.Waker, isInternal: true); // the waker is an ordinary handler
        }
        catch
        {
            _registry?.Dispose();
            _posted.Dispose();
            throw;
        }

        _now = Stopwatch.GetTimestamp();
    }

    /// <summary>The loop running on the calling thread (inside its <see cref="Run"/> or <see cref="RunOnce"/>), or null.</summary>
    public static EventLoop? Current => LoopOwnership.Current;

    /// <summary>The backend's name: <c>epoll</c>, <c>poll</c> or <c>select</c>. Any thread.</summary>
    public string Backend => _registry.BackendName;

    /// <summary>True when called on the loop thread. Any thread.</summary>
    public bool IsOnLoopThread => _ownership.IsOwner;

    /// <summary>The monotonic clock (<see cref="Stopwatch.GetTimestamp"/>) read when this turn's wait ended: free, at most a turn old. For stamps and <see cref="CallAt"/>.</summary>
    public long Now => _now;

    /// <summary>
    /// Ticks of <see cref="Now"/>'s clock during which this loop did not run although it should have: the
    /// process was stopped (SIGSTOP, a debugger, a frozen VM), as the loop sees it: a gap between two turns
    /// longer than the wait plus half a second. Subtract the growth of this figure from an elapsed time on
    /// <see cref="Now"/> to get the time the loop was running (an idle timeout counts only that). Loop thread.
    /// </summary>
    public long StoppedTicks { get; private set; }

    /// <summary>Where the loop and the building blocks log (<see cref="EventLoopOptions.Logger"/>, else stderr).</summary>
    public ILogger Logger => _logger;

    /// <summary>
    /// A scratch buffer lent to handlers: receive into it, consume the bytes before returning (not preserved
    /// between callbacks). Loop thread only. Sharing it is why an idle connection holds no receive buffer.
    /// </summary>
    /// <exception cref="InvalidOperationException">Not on the loop thread.</exception>
    public Span<byte> ReceiveBuffer
    {
        get
        {
            ThrowIfNotOnLoopThread(); // shared by every handler: a read from another thread would race silently
            return _receiveBuffer;
        }
    }

    /// <summary>The io_uring backend, when the loop runs on it: the building blocks submit their own requests there.</summary>
    internal IoUringPoller? Ring => _registry.Poller as IoUringPoller;

    /// <summary>This loop's number in the process, from 0 (as the trace and the <c>EventIO</c> event source name it).</summary>
    internal int Id { get; }

    internal int HandlerCount => _registry.Count;

    internal bool IsRunning => _ownership.IsActive;

    internal int PendingTimers => _timers.Count;

    internal long SlowCallbackCount => _slow.Count;

    /// <summary>Registers <paramref name="handler"/> and asks the kernel for what it wants now; a <see cref="LoopHandler"/> is attached to this loop here, for good. Loop thread only.</summary>
    /// <exception cref="InvalidOperationException">Already registered (or its descriptor is), bound to another loop, or not the loop thread.</exception>
    /// <exception cref="ArgumentException">The handle is closed or invalid.</exception>
    /// <exception cref="NotSupportedException">The backend cannot watch this descriptor (select and descriptors ≥ 1024).</exception>
    public void Add(IEventHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ThrowIfNotUsable();
        var owned = handler as LoopHandler;
        owned?.EnsureAttachable(this);
        _registry.Add(handler);
        try
        {
            owned?.Attach(this);
        }
        catch (Exception ex)
        {
            OnHandlerFailed(handler, ex);
        }
    }

    /// <summary>Unregisters <paramref name="handler"/> at once: no further events, even ones collected this turn. Does not close its handle; false if not registered. Loop thread only.</summary>
    public bool Remove(IEventHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ThrowIfNotOnLoopThread();
        return !_disposed && _registry.Remove(handler);
    }

    /// <summary>Says <paramref name="handler"/>'s wants changed outside its own dispatch: they are re-read before the next wait. Cheap, idempotent. Loop thread only.</summary>
    public void Update(IEventHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ThrowIfNotOnLoopThread();
        _registry.MarkDirty(handler);
    }

    /// <summary>Runs turns on the calling thread until <see cref="Stop"/> or <paramref name="cancellationToken"/>.</summary>
    /// <exception cref="InvalidOperationException">A thread is already running the loop (this one included: Run does not nest).</exception>
    public void Run(CancellationToken cancellationToken = default)
    {
        EventLoop? outer = Enter();
        CancellationTokenRegistration onCancel = cancellationToken.UnsafeRegister(static s => ((EventLoop)s!).Stop(), this);
        try
        {
            while (!_stopRequested && !cancellationToken.IsCancellationRequested)
            {
                RunTurn(-1);
            }
        }
        finally
        {
            onCancel.Dispose();
            Exit(outer);
        }
    }

    /// <summary>
    /// Runs one turn, waiting at most <paramref name="timeout"/> (null or infinite: until something happens).
    /// A pending <see cref="Stop"/> makes it not wait, and is consumed. For tests and hosts that drive the loop.
    /// </summary>
    /// <returns>The number of handler dispatches, timers and posted actions run.</returns>
    public int RunOnce(TimeSpan? timeout = null)
    {
        int maxWaitMs = MonotonicClock.ToWaitMilliseconds(timeout, nameof(timeout));
        EventLoop? outer = Enter();
        try
        {
            return RunTurn(maxWaitMs);
        }
        finally
        {
            Exit(outer);
        }
    }

    /// <summary>Asks <see cref="Run"/> to return after the current turn (or the next <see cref="RunOnce"/> not to wait). Any thread.</summary>
    public void Stop()
    {
        _stopRequested = true;
        if (!_ownership.IsActiveHere)
        {
            _posted.Wake(); // a running loop sees the flag at its next timeout check
        }
    }

    /// <summary>Throws <see cref="InvalidOperationException"/> unless called on the loop thread (or the loop is disposed). One comparison.</summary>
    public void ThrowIfNotOnLoopThread()
    {
        if (!_ownership.IsOwner && !_disposed)
        {
            ThrowNotOnLoopThread();
        }
    }

    /// <summary>
    /// Closes every handler still registered, completes what is still awaited on the loop as cancelled
    /// (<see cref="Delay"/>, <c>WorkerPool.RunAsync</c>, a connection's receive or send), runs what was posted
    /// before (no action that <see cref="Post(Action)"/> accepted is lost), drops the timers, releases poller and
    /// waker. After <see cref="Run"/> returns; any thread. Idempotent.
    /// </summary>
    /// <exception cref="InvalidOperationException">The loop is running (on another thread, or this is a callback of it).</exception>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        EventLoop? outer = Enter();
        try
        {
            BeginDisposal(); // awaitable operations started from here on are cancelled at once
            foreach (IEventHandler handler in _registry.Handlers())
            {
                _registry.Remove(handler);
                CloseHandler(handler);
            }

            CancelPendingOperations(); // no await on this loop is left hanging
            _posted.Close();
            _turnTrace = _registry.Trace = null;
            _slow.StartTurn(Stopwatch.GetTimestamp());
            for (int round = 0; round < DisposeDrainRounds && RunPosted() + RunLateWork() > 0; round++)
            {
            }

            _timers.Clear();
            _disposed = true;
        }
        finally
        {
            Exit(outer);
        }

        AbandonLateWork(); // continuations still queued after the last round: the thread pool runs them

        _registry.Dispose();
        _posted.Dispose();
    }

    /// <summary>One turn, as a list of phases.</summary>
    private int RunTurn(int maxWaitMs)
    {
        LoopTrace? trace = _turnTrace = _registry.Trace = _trace.BeginTurn(_turns + 1) ? _trace : null; // null: untraced, nothing more to do
        _registry.SyncInterest();                                       // 1. tell the kernel what changed
        int timeoutMs = ComputeTimeout(maxWaitMs);
        trace?.Waiting(timeoutMs, WaitReason(timeoutMs, maxWaitMs));
        long waitStart = Stopwatch.GetTimestamp();
        BeforeWait(waitStart);                                          //    busy time ends here (EventLoop.Statistics.cs)
        long previous = _now;
        int ready = _registry.Wait(_events, timeoutMs);                 // 2. wait for readiness, a timer or a post
        _now = Stopwatch.GetTimestamp();
        AfterWait(_now);
        trace?.Woke(ready, _now - waitStart);
        _slow.StartTurn(_now);
        int work = Dispatch(ready);                                     // 3. receive before send, as the recipe
        if (ClockJumped(previous, timeoutMs))
        {
            StoppedTicks += _now - previous - (timeoutMs * Stopwatch.Frequency / 1000);
            _timersDeferred = true;                                     //    the process was stopped: timers next turn
        }
        else
        {
            _timersDeferred = false;
            work += RunDueTimers();                                     // 4. timers due now
        }

        work += RunPosted();                                            // 5. posted actions, deferred closes included
        if (trace is not null)
        {
            trace.EndTurn(_turns, work, _slow.LastEnd - _now);
            _turnTrace = _registry.Trace = null;
        }

        return work;
    }

    // True if far more time passed since the last turn's clock than its wait and a slow callback explain:
    // the process was stopped (SIGSTOP, a debugger, a frozen VM) or starved. I/O that arrived meanwhile may
    // not be in this turn's events (the stop can land after the wait returned), so the timers wait for one
    // more turn, which polls without waiting: an idle timeout would otherwise close every connection whose
    // bytes are waiting.
    private bool ClockJumped(long previous, int timeoutMs)
        => previous != 0 && timeoutMs >= 0 && _now - previous > (timeoutMs + 500L) * Stopwatch.Frequency / 1000;

    // Only for a traced turn: why ComputeTimeout chose what it did.
    private LoopWaitReason WaitReason(int timeoutMs, int maxWaitMs)
    {
        if (_stopRequested)
        {
            return LoopWaitReason.Stop;
        }

        if (!_posted.IsEmpty)
        {
            return LoopWaitReason.Posted;
        }

        bool timer = _timers.NextDue != long.MaxValue && (maxWaitMs < 0 || timeoutMs < maxWaitMs);
        return timer ? LoopWaitReason.Timer : maxWaitMs < 0 ? LoopWaitReason.Idle : LoopWaitReason.Limit;
    }

    /// <summary>A handler of this loop queued work on a worker pool (traced turns only).</summary>
    internal void TraceWorkQueued(Delegate work) => _turnTrace?.WorkQueued(work);

    private int ComputeTimeout(int maxWaitMs)
    {
        if (_stopRequested || !_posted.IsEmpty || _timersDeferred)
        {
            return 0;
        }

        long nextDue = _timers.NextDue;
        if (nextDue == long.MaxValue)
        {
            return maxWaitMs;
        }

        int timerMs = MonotonicClock.ToWaitMilliseconds(nextDue - Stopwatch.GetTimestamp());
        return maxWaitMs < 0 ? timerMs : Math.Min(timerMs, maxWaitMs);
    }

    private int Dispatch(int count)
    {
        int dispatched = 0;
        for (int i = 0; i < count; i++)
        {
            if (_events[i].Operation != 0)
            {
                dispatched += DispatchCompletion(_events[i]);
            }
            else if (_registry.TryResolve(_events[i], out Registration? reg, out Interest ready))
            {
                dispatched += reg.IsInternal ? 0 : 1;
                DispatchOne(reg, ready, _events[i].Failed);
            }
        }

        return dispatched;
    }

    private void DispatchOne(Registration reg, Interest ready, bool failed)
    {
        IEventHandler handler = reg.Handler!;
        uint generation = reg.Generation;
        int descriptor = reg.Descriptor; // for the trace: a handler that closes itself vacates its registration
        _registry.MarkDirty(reg); // its wants are re-read before the next wait: no Update needed
        try
        {
            if ((ready & Interest.Readable) != 0)
            {
                handler.HandleReceive();
            }

            // Skipped if the receive closed the handler or it no longer wants to send.
            if ((ready & Interest.Writable) != 0 && reg.IsLive(generation) && handler.WantsToSend)
            {
                handler.HandleSend();
            }
        }
        catch (Exception ex) when (reg.IsLive(generation))
        {
            OnHandlerFailed(handler, ex);
        }
        catch (Exception ex)
        {
            EventLoopLog.CallbackFailed(_logger, ex); // it closed itself, then threw
        }

        long elapsed = _slow.EndCallback(handler);
        _turnTrace?.Dispatched(handler, descriptor, ready, failed, elapsed);
    }

    // An io_uring request of a building block completed: to the owner that submitted it, under the same
    // failure policy as a handler's readiness.
    private int DispatchCompletion(in ReadyEvent ev)
    {
        if (!OperatingSystem.IsLinux() || Ring?.Completions.Resolve(ev.Token) is not { } owner)
        {
            return 0;
        }

        try
        {
            owner.OnCompletion(ev.Operation, ev.Result, ev.Flags);
        }
        catch (Exception ex) when (owner is IEventHandler handler && _registry.Find(handler) is not null)
        {
            OnHandlerFailed(handler, ex);
        }
        catch (Exception ex)
        {
            EventLoopLog.CallbackFailed(_logger, ex);
        }

        long elapsed = _slow.EndCallback(owner);
        _turnTrace?.Completed(owner, ev.Operation, ev.Result, elapsed);
        return 1;
    }

    // Returns how long the callback held the loop.
    private long Invoke(Action<object?> action, object? state)
    {
        try
        {
            action(state);
        }
        catch (Exception ex)
        {
            EventLoopLog.CallbackFailed(_logger, ex);
        }

        // Name what the user wrote: the Action behind Post(Action)/CallLater(Action), else the callback.
        return state is Delegate inner && action == s_invokeAction
            ? _slow.EndCallback(inner)
            : _slow.EndCallback(action, state);
    }

    // What a trace names for a timer or posted action: the Action the user wrote, else the callback.
    private static Delegate Named(Action<object?> action, object? state)
        => state is Delegate inner && action == s_invokeAction ? inner : action;

    // The failure policy: a handler that throws is logged, removed and closed; the loop carries on.
    private void OnHandlerFailed(IEventHandler handler, Exception ex)
    {
        EventLoopLog.HandlerFailed(_logger, handler.GetType().Name, ex);
        _registry.Remove(handler);
        CloseHandler(handler);
    }

    private void CloseHandler(IEventHandler handler)
    {
        try
        {
            if (handler is IDisposable disposable)
            {
                disposable.Dispose();
            }
            else
            {
                handler.Handle.Dispose();
            }
        }
        catch (Exception ex)
        {
            EventLoopLog.CloseFailed(_logger, handler.GetType().Name, ex);
        }
    }

    private EventLoop? Enter()
    {
        EventLoop? outer = _disposed ? throw new ObjectDisposedException(nameof(EventLoop)) : _ownership.Enter(this);
        InstallSynchronizationContext(); // an await inside a callback resumes on this loop
        BusyFrom(Stopwatch.GetTimestamp());
        return outer;
    }

    private void Exit(EventLoop? outer)
    {
        BusyUntil(Stopwatch.GetTimestamp());
        _stopRequested = false; // a stop is consumed by the Run or RunOnce it reached
        RestoreSynchronizationContext();
        _ownership.Exit(outer);
    }

    private void ThrowIfNotUsable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ThrowIfNotOnLoopThread();
    }

    [DoesNotReturn]
    private static void ThrowNotOnLoopThread()
        => throw new InvalidOperationException("This member must be called on the loop thread; from other threads, use EventLoop.Post.");
}
