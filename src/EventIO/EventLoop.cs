using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
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
/// <see cref="Post(Action)"/>, <see cref="Stop"/>, <see cref="TimerHandle.Cancel"/> and the read-only
/// properties may be called from any thread; every other member throws
/// <see cref="InvalidOperationException"/> on another thread instead of racing.</para>
/// <para><b>Errors:</b> a handler that throws is logged, removed and closed; a throwing timer or posted
/// action is logged; the loop carries on. A failing poller (anything but EINTR) is a broken invariant and
/// is thrown out of <see cref="Run"/>.</para>
/// </remarks>
public sealed class EventLoop : IDisposable
{
    // Dispose runs what was posted before it; actions that keep posting get this many rounds.
    private const int DisposeDrainRounds = 16;

    private static readonly Action<object?> s_invokeAction = static s => ((Action)s!)();
    private static readonly Action<object?> s_removeTimer = static s => ((TimerHandle)s!).Loop._timers.Remove((TimerHandle)s);

    [ThreadStatic]
    private static EventLoop? t_current;

    private readonly Registry _registry;
    private readonly PostQueue _posted;
    private readonly TimerQueue _timers = new();
    private readonly SlowCallbackMonitor _slow;
    private readonly ReadyEvent[] _events;
    private readonly byte[] _receiveBuffer;
    private readonly ILogger _logger;
    private int _ownerThreadId;  // the loop thread (see remarks)
    private int _activeThreadId; // the thread inside Run, RunOnce or Dispose; 0 when none
    private volatile bool _stopRequested;
    private volatile bool _disposed;
    private long _now;

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
        var registry = new Registry(PollerFactory.Create(options.Backend, options.MaxEventsPerTurn), _logger, OnHandlerFailed);
        PostQueue? posted = null;
        try
        {
            posted = new PostQueue();
            registry.Add(posted.Waker, isInternal: true);
        }
        catch
        {
            posted?.Dispose();
            registry.Dispose();
            throw;
        }

        (_registry, _posted) = (registry, posted);
        _ownerThreadId = Environment.CurrentManagedThreadId;
        _now = Stopwatch.GetTimestamp();
    }

    /// <summary>The loop running on the calling thread (inside its <see cref="Run"/> or <see cref="RunOnce"/>), or null.</summary>
    public static EventLoop? Current => t_current;

    /// <summary>The backend's name: <c>epoll</c>, <c>poll</c> or <c>select</c>. Any thread.</summary>
    public string Backend => _registry.BackendName;

    /// <summary>True when called on the loop thread. Any thread.</summary>
    public bool IsOnLoopThread => Environment.CurrentManagedThreadId == Volatile.Read(ref _ownerThreadId);

    /// <summary>
    /// The monotonic clock (<see cref="Stopwatch.GetTimestamp"/>) read when this turn's wait ended: free to
    /// read, at most a turn old. Use it to stamp events and with <see cref="CallAt"/>.
    /// </summary>
    public long Now => _now;

    /// <summary>Where the loop and the building blocks log (<see cref="EventLoopOptions.Logger"/>, else stderr).</summary>
    public ILogger Logger => _logger;

    /// <summary>
    /// A scratch buffer owned by the loop, lent to handlers: receive into it and consume the bytes before
    /// returning. Loop thread only; its contents are not preserved between callbacks. Sharing one buffer
    /// is what lets an idle connection hold no receive buffer at all.
    /// </summary>
    public Span<byte> ReceiveBuffer => _receiveBuffer;

    internal int HandlerCount => _registry.Count;

    internal bool IsRunning => Volatile.Read(ref _activeThreadId) != 0;

    internal int PendingTimers => _timers.Count;

    internal long SlowCallbackCount => _slow.Count;

    /// <summary>
    /// Registers <paramref name="handler"/> and asks the kernel for the readiness it wants now. A
    /// <see cref="LoopHandler"/> is attached to this loop here, for good. Loop thread only.
    /// </summary>
    /// <exception cref="InvalidOperationException">Already registered, its descriptor is, it belongs to another loop, or not the loop thread.</exception>
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

    /// <summary>
    /// Unregisters <paramref name="handler"/> at once: it receives no further events, even ones already
    /// collected in this turn. Does not close the handle. False if it was not registered. Loop thread only.
    /// </summary>
    public bool Remove(IEventHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ThrowIfNotOnLoopThread();
        return !_disposed && _registry.Remove(handler);
    }

    /// <summary>
    /// Tells the loop that <paramref name="handler"/>'s wants may have changed outside its own dispatch;
    /// they are re-read before the next wait. Cheap, idempotent; ignored for an unregistered handler.
    /// Loop thread only.
    /// </summary>
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
    /// Runs one turn: waits at most <paramref name="timeout"/> (null or <see cref="Timeout.InfiniteTimeSpan"/>:
    /// until something happens) and runs what is ready. A pending <see cref="Stop"/> makes it not wait, and is
    /// consumed. For tests and for hosts that drive the loop themselves.
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
        if (Volatile.Read(ref _activeThreadId) != Environment.CurrentManagedThreadId)
        {
            _posted.Wake(); // a running loop sees the flag at its next timeout check
        }
    }

    /// <summary>Runs <paramref name="action"/> on the loop thread during a coming turn. Any thread.</summary>
    /// <returns>False if the loop is disposed (or disposing) and the action will never run; true means it will.</returns>
    public bool Post(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        return Post(s_invokeAction, action);
    }

    /// <summary>
    /// Runs <paramref name="action"/>(<paramref name="state"/>) on the loop thread during a coming turn,
    /// without a closure. Any thread. Actions posted from one thread run in order, after the callback now
    /// running; wake-ups coalesce (one eventfd write however many are posted before the loop wakes).
    /// </summary>
    /// <returns>False if the loop is disposed (or disposing) and the action will never run; true means it will.</returns>
    public bool Post(Action<object?> action, object? state)
    {
        ArgumentNullException.ThrowIfNull(action);
        bool onLoop = Volatile.Read(ref _activeThreadId) == Environment.CurrentManagedThreadId;
        return _posted.TryEnqueue(new PostedWork(action, state), wake: !onLoop); // a running loop sees its own posts
    }

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

    /// <summary>Throws <see cref="InvalidOperationException"/> unless called on the loop thread (or the loop is disposed). One comparison.</summary>
    public void ThrowIfNotOnLoopThread()
    {
        if (Environment.CurrentManagedThreadId != _ownerThreadId && !_disposed)
        {
            ThrowNotOnLoopThread();
        }
    }

    /// <summary>
    /// Closes every handler still registered, runs the actions posted before (so none that
    /// <see cref="Post(Action)"/> accepted is lost), drops the timers, then releases the poller and the
    /// waker. Call it after <see cref="Run"/> has returned, from any thread. Idempotent.
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
            foreach (IEventHandler handler in _registry.Handlers())
            {
                _registry.Remove(handler);
                CloseHandler(handler);
            }

            _posted.Close();
            _slow.StartTurn(Stopwatch.GetTimestamp());
            for (int round = 0; round < DisposeDrainRounds && RunPosted() > 0; round++)
            {
            }

            _timers.Clear();
            _disposed = true;
        }
        finally
        {
            Exit(outer);
        }

        _registry.Dispose();
        _posted.Dispose();
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

    /// <summary>One turn, as a list of phases.</summary>
    private int RunTurn(int maxWaitMs)
    {
        _registry.SyncInterest();                                       // 1. tell the kernel what changed
        int ready = _registry.Wait(_events, ComputeTimeout(maxWaitMs)); // 2. wait for readiness, a timer or a post
        _now = Stopwatch.GetTimestamp();
        _slow.StartTurn(_now);
        int work = Dispatch(ready);                                     // 3. receive before send, as the recipe
        work += RunDueTimers();                                         // 4. timers due now
        return work + RunPosted();                                      // 5. posted actions, deferred closes included
    }

    private int ComputeTimeout(int maxWaitMs)
    {
        if (_stopRequested || !_posted.IsEmpty)
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
            if (_registry.TryResolve(_events[i], out Registration? reg, out Interest ready))
            {
                dispatched += reg.IsInternal ? 0 : 1;
                DispatchOne(reg, ready);
            }
        }

        return dispatched;
    }

    private void DispatchOne(Registration reg, Interest ready)
    {
        IEventHandler handler = reg.Handler!;
        uint generation = reg.Generation;
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

        _slow.EndCallback(handler);
    }

    private int RunDueTimers()
    {
        if (_timers.Count == 0)
        {
            return 0;
        }

        int ran = 0;
        long limit = _timers.NextSequence(); // timers scheduled while this phase runs wait a turn
        while (_timers.TryDequeueDue(_now, limit, out TimerHandle? timer))
        {
            if (timer.IsCancelled)
            {
                continue; // cancelled from another thread; its posted removal finds nothing
            }

            if (timer.Period > 0)
            {
                long next = MonotonicClock.Add(timer.Due, timer.Period);
                timer.Due = next > _now ? next : MonotonicClock.Add(_now, timer.Period); // skip missed runs
                timer.Sequence = _timers.NextSequence();
                _timers.Add(timer); // before the callback, so that the callback may cancel it
            }

            ran++;
            Invoke(timer.Callback, timer.State);
        }

        return ran;
    }

    private int RunPosted()
    {
        _posted.BeginBatch(); // those posted while the batch runs wait a turn, so none can starve I/O
        int ran = 0;
        while (_posted.TryTake(out PostedWork work))
        {
            ran++;
            Invoke(work.Action, work.State);
        }

        return ran;
    }

    private void Invoke(Action<object?> action, object? state)
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
        if (state is Delegate inner && action == s_invokeAction)
        {
            _slow.EndCallback(inner);
        }
        else
        {
            _slow.EndCallback(action, state);
        }
    }

    private TimerHandle Schedule(long due, long period, Action<object?> action, object? state)
    {
        ArgumentNullException.ThrowIfNull(action);
        ThrowIfNotUsable();
        var timer = new TimerHandle(this, due, _timers.NextSequence(), period, action, state);
        _timers.Add(timer);
        return timer;
    }

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

    // Run, RunOnce and Dispose make the calling thread the loop thread for their duration, and refuse to
    // nest or to run beside another thread.
    private EventLoop? Enter()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int me = Environment.CurrentManagedThreadId;
        int active = Interlocked.CompareExchange(ref _activeThreadId, me, 0);
        if (active != 0)
        {
            throw new InvalidOperationException(active == me
                ? "The loop is already running on this thread: Run, RunOnce and Dispose do not nest (from a callback, call Stop, and Dispose after Run returns)."
                : "The loop is already running on another thread.");
        }

        Volatile.Write(ref _ownerThreadId, me);
        EventLoop? outer = t_current;
        t_current = this;
        return outer;
    }

    private void Exit(EventLoop? outer)
    {
        _stopRequested = false;
        t_current = outer;
        Volatile.Write(ref _activeThreadId, 0);
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
