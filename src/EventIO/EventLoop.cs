using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using EventIO.Polling;
using EventIO.Timers;
using EventIO.Waking;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventIO;

/// <summary>
/// The recipe's <c>event_loop</c>: owns a set of <see cref="IEventHandler"/>s, waits for their handles
/// to become ready and dispatches <see cref="IEventHandler.HandleReceive"/> and
/// <see cref="IEventHandler.HandleSend"/>; also runs timers and actions posted from other threads.
/// </summary>
/// <remarks>
/// <para><b>A turn</b> (see <c>docs/design.md</c>): sync interest → wait (timeout from the earliest timer)
/// → dispatch ready handlers (receive before send, as the recipe) → run due timers → run posted actions.
/// Only handlers that were dispatched, added or passed to <see cref="Update"/> have their wants re-read,
/// and the kernel is called only when a handler's interest changed, so a turn costs O(ready), not
/// O(registered).</para>
/// <para><b>Threading:</b> one thread runs the loop. <see cref="Post(Action)"/>, <see cref="Stop"/> and
/// <see cref="TimerHandle.Cancel"/> may be called from any thread; every other member must be called on
/// the loop thread, or while the loop is not running.</para>
/// <para><b>Errors:</b> a handler that throws is logged, removed and closed; a throwing timer or posted
/// action is logged; the loop carries on. A failing poller (anything but EINTR) is a broken invariant and
/// is thrown out of <see cref="Run"/>.</para>
/// </remarks>
public sealed class EventLoop : IDisposable
{
    private const ulong WakerToken = ulong.MaxValue;

    private static readonly Action<object?> s_invokeAction = static state => ((Action)state!)();

    private readonly IPoller _poller;
    private readonly IWaker _waker;
    private readonly ReadyEvent[] _events;
    private readonly byte[] _receiveBuffer;
    private readonly ILogger _logger;
    private readonly TimerQueue _timers = new();
    private readonly ConcurrentQueue<PostedWork> _posted = new();
    private readonly Dictionary<IEventHandler, Registration> _byHandler = new(ReferenceEqualityComparer.Instance);
    private readonly List<Registration> _dirty = [];
    private readonly Stack<int> _freeSlots = new();
    private Registration[] _slots = [];
    private Registration?[] _byDescriptor = new Registration?[256];
    private int _wakePending;      // 1 while a wake-up is in flight (coalesces Post/Stop from many threads)
    private volatile bool _stopRequested;
    private volatile bool _disposed;
    private int _loopThreadId;     // managed id of the thread inside Run/RunOnce, 0 when none
    private long _now;             // Stopwatch ticks, cached per turn
    private long _callbackStart;   // when the callback now running started (the previous one's end)
    private Registration? _dispatching; // the registration whose handler is being called
    private readonly long _slowTicks; // SlowCallbackThreshold in Stopwatch ticks; long.MaxValue: off

    /// <summary>Creates a loop with its poller and waker. Throws if the OS refuses either.</summary>
    public EventLoop(EventLoopOptions? options = null)
    {
        options ??= new EventLoopOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxEventsPerTurn, 1, nameof(options.MaxEventsPerTurn));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ReceiveBufferSize, 1024, nameof(options.ReceiveBufferSize));
        _logger = options.Logger ?? NullLogger.Instance;
        _slowTicks = options.SlowCallbackThreshold == Timeout.InfiniteTimeSpan
            ? long.MaxValue
            : Math.Max(1, ToTimestampTicks(options.SlowCallbackThreshold));
        _events = new ReadyEvent[options.MaxEventsPerTurn];
        _receiveBuffer = GC.AllocateUninitializedArray<byte>(options.ReceiveBufferSize, pinned: true);
        _poller = PollerFactory.Create(options.Backend, options.MaxEventsPerTurn);
        try
        {
            _waker = PollerFactory.CreateWaker();
            _poller.Add(_waker.Descriptor, Interest.Readable, WakerToken);
        }
        catch
        {
            _poller.Dispose();
            throw;
        }

        _now = Stopwatch.GetTimestamp();
    }

    /// <summary>The backend's name: <c>epoll</c>, <c>poll</c> or <c>select</c>.</summary>
    public string Backend => _poller.Name;

    /// <summary>The number of registered handlers.</summary>
    public int HandlerCount => _byHandler.Count;

    /// <summary>True while a thread is inside <see cref="Run"/> or <see cref="RunOnce"/>.</summary>
    public bool IsRunning => Volatile.Read(ref _loopThreadId) != 0;

    /// <summary>True when called on the thread that is running the loop.</summary>
    public bool IsOnLoopThread => Volatile.Read(ref _loopThreadId) == Environment.CurrentManagedThreadId;

    // Loop-thread-only members may run: on the loop thread, or while no thread runs the loop (one read).
    private bool OnLoopThreadOrIdle
    {
        get
        {
            int owner = Volatile.Read(ref _loopThreadId);
            return owner == 0 || owner == Environment.CurrentManagedThreadId;
        }
    }

    /// <summary>Handler calls, timers and posted actions that held the loop longer than <see cref="EventLoopOptions.SlowCallbackThreshold"/>.</summary>
    public long SlowCallbackCount { get; private set; }

    /// <summary>The number of timers scheduled and not yet run or cancelled.</summary>
    public int PendingTimers => _timers.Count;

    /// <summary>
    /// A scratch buffer owned by the loop, lent to handlers: receive into it and consume the bytes before
    /// returning. Loop thread only; its contents are not preserved between callbacks. Sharing one buffer
    /// is what lets an idle connection hold no receive buffer at all.
    /// </summary>
    public Span<byte> ReceiveBuffer => _receiveBuffer;

    internal ILogger Logger => _logger;

    /// <summary>The monotonic clock (Stopwatch ticks) read after the last wait: cheap, at most a turn old.</summary>
    internal long TurnTimestamp => _now;

    /// <summary>
    /// Registers <paramref name="handler"/> and asks the kernel for the readiness it wants now.
    /// Loop thread only.
    /// </summary>
    /// <exception cref="InvalidOperationException">The handler is already registered, or this is not the loop thread.</exception>
    /// <exception cref="ArgumentException">The handle is closed or invalid.</exception>
    /// <exception cref="NotSupportedException">The backend cannot watch this descriptor (select and descriptors ≥ 1024).</exception>
    public void Add(IEventHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        EnsureUsable();
        if (_byHandler.ContainsKey(handler))
        {
            throw new InvalidOperationException($"{handler.GetType().Name} is already registered with this loop.");
        }

        System.Runtime.InteropServices.SafeHandle handle = handler.Handle;
        if (handle is null || handle.IsClosed || handle.IsInvalid)
        {
            throw new ArgumentException($"{handler.GetType().Name}.Handle is closed or invalid.", nameof(handler));
        }

        int fd = checked((int)handle.DangerousGetHandle());
        _poller.EnsureCanWatch(fd);
        Interest desired = ReadWants(handler); // before taking a slot: it may throw
        EvictStaleOwner(fd);

        Registration reg = AllocateRegistration();
        if (desired != Interest.None)
        {
            try
            {
                _poller.Add(fd, desired, reg.Token);
            }
            catch
            {
                FreeRegistration(reg);
                throw;
            }
        }

        reg.Handler = handler;
        reg.Descriptor = fd;
        reg.Registered = desired;
        _byHandler.Add(handler, reg);
        if (fd >= _byDescriptor.Length)
        {
            Array.Resize(ref _byDescriptor, Math.Max(fd + 1, _byDescriptor.Length * 2));
        }

        _byDescriptor[fd] = reg;
    }

    /// <summary>
    /// Unregisters <paramref name="handler"/> at once: it receives no further events, even ones already
    /// collected in this turn. Does not close the handle. Returns false if it was not registered.
    /// Loop thread only.
    /// </summary>
    public bool Remove(IEventHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        EnsureLoopThread();
        if (!_byHandler.Remove(handler, out Registration? reg))
        {
            return false;
        }

        if (reg.Registered != Interest.None)
        {
            _poller.Remove(reg.Descriptor);
        }

        if (ReferenceEquals(_byDescriptor[reg.Descriptor], reg))
        {
            _byDescriptor[reg.Descriptor] = null;
        }

        FreeRegistration(reg);
        return true;
    }

    /// <summary>
    /// Tells the loop that <paramref name="handler"/>'s <see cref="IEventHandler.WantsToReceive"/> or
    /// <see cref="IEventHandler.WantsToSend"/> may have changed; they are re-read before the next wait.
    /// Cheap and idempotent. Ignored for a handler that is not registered. Loop thread only.
    /// </summary>
    public void Update(IEventHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        EnsureLoopThread();
        if (ReferenceEquals(_dispatching?.Handler, handler))
        {
            return; // marked before it was called
        }

        if (_byHandler.TryGetValue(handler, out Registration? reg))
        {
            MarkDirty(reg);
        }
    }

    /// <summary>
    /// Runs turns on the calling thread until <see cref="Stop"/> is called or
    /// <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another thread is already running the loop.</exception>
    public void Run(CancellationToken cancellationToken = default)
    {
        EnterLoop();
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
            _stopRequested = false;
            ExitLoop();
        }
    }

    /// <summary>
    /// Runs one turn: waits at most <paramref name="timeout"/> (null: until something happens) for
    /// readiness, a due timer or a posted action, and dispatches what is ready. For tests and for hosts
    /// that drive the loop themselves.
    /// </summary>
    /// <returns>The number of handler dispatches, timers and posted actions run.</returns>
    public int RunOnce(TimeSpan? timeout = null)
    {
        int maxWaitMs = timeout is null ? -1 : ToWaitMilliseconds(ToTimestampTicks(timeout.Value));
        EnterLoop();
        try
        {
            return RunTurn(maxWaitMs);
        }
        finally
        {
            ExitLoop();
        }
    }

    /// <summary>Asks <see cref="Run"/> to return after the current turn. Any thread; idempotent.</summary>
    public void Stop()
    {
        _stopRequested = true;
        Wake();
    }

    /// <summary>Runs <paramref name="action"/> on the loop thread during a coming turn. Any thread.</summary>
    /// <returns>False if the loop is disposed and the action will never run.</returns>
    public bool Post(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        return Post(s_invokeAction, action);
    }

    /// <summary>
    /// Runs <paramref name="action"/>(<paramref name="state"/>) on the loop thread during a coming turn,
    /// without allocating a closure. Any thread. Actions posted from one thread run in order; wake-ups
    /// are coalesced (one eventfd write however many actions are posted before the loop wakes).
    /// </summary>
    /// <returns>False if the loop is disposed and the action will never run.</returns>
    public bool Post(Action<object?> action, object? state)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (_disposed)
        {
            return false;
        }

        _posted.Enqueue(new PostedWork(action, state));
        Wake();
        return true;
    }

    /// <summary>
    /// Runs <paramref name="action"/> on the loop thread once <paramref name="delay"/> has passed on the
    /// monotonic clock: never earlier, and after every timer due at the same time that was scheduled
    /// before it. A zero or negative delay runs on the next turn. Loop thread only.
    /// </summary>
    public TimerHandle CallLater(TimeSpan delay, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        return CallLater(delay, s_invokeAction, action);
    }

    /// <summary>As <see cref="CallLater(TimeSpan, Action)"/>, passing <paramref name="state"/> instead of capturing it.</summary>
    public TimerHandle CallLater(TimeSpan delay, Action<object?> action, object? state)
        => CallAt(SaturatingAdd(Stopwatch.GetTimestamp(), ToTimestampTicks(delay)), action, state);

    /// <summary>As <see cref="CallLater(TimeSpan, Action{object?}, object?)"/>, due at a <see cref="Stopwatch"/> timestamp. Loop thread only.</summary>
    internal TimerHandle CallAt(long dueTimestamp, Action<object?> action, object? state)
    {
        ArgumentNullException.ThrowIfNull(action);
        EnsureUsable();
        var timer = new TimerHandle(this, dueTimestamp, _timers.NextSequence(), action, state);
        _timers.Add(timer);
        return timer;
    }

    /// <summary>
    /// Removes every handler still registered and closes it, then releases the poller and the waker.
    /// Call it after <see cref="Run"/> has returned. Idempotent.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        if (!OnLoopThreadOrIdle)
        {
            throw new InvalidOperationException("Stop the loop and let Run return before disposing it.");
        }

        foreach (IEventHandler handler in _byHandler.Keys.ToArray())
        {
            Remove(handler);
            Close(handler);
        }

        _disposed = true;
        _poller.Dispose();
        _waker.Dispose();
    }

    internal void CancelTimer(TimerHandle timer)
    {
        if (OnLoopThreadOrIdle)
        {
            _timers.Remove(timer);
        }
        else
        {
            Post(static s => { var t = (TimerHandle)s!; t.Loop._timers.Remove(t); }, timer);
        }
    }

    private int RunTurn(int maxWaitMs)
    {
        SyncInterest();
        int ready = _poller.Wait(_events, ComputeTimeout(maxWaitMs));
        _now = Stopwatch.GetTimestamp();
        _callbackStart = _now;
        int work = Dispatch(ready);
        work += RunDueTimers();
        work += RunPosted();
        return work;
    }

    // Phase 1: re-read the wants of touched handlers; call the kernel only where they changed.
    private void SyncInterest()
    {
        // Index loop: closing a failed handler may mark others dirty while we iterate.
        for (int i = 0; i < _dirty.Count; i++)
        {
            Registration reg = _dirty[i];
            reg.Dirty = false;
            IEventHandler? handler = reg.Handler;
            if (handler is null)
            {
                continue;
            }

            try
            {
                Interest desired = ReadWants(handler);
                if (desired == reg.Registered)
                {
                    continue;
                }

                if (reg.Registered == Interest.None)
                {
                    _poller.Add(reg.Descriptor, desired, reg.Token);
                }
                else if (desired == Interest.None)
                {
                    // Out of the kernel entirely: a hang-up on a paused descriptor must not spin the loop.
                    _poller.Remove(reg.Descriptor);
                }
                else
                {
                    _poller.Modify(reg.Descriptor, desired, reg.Token);
                }

                reg.Registered = desired; // only after the kernel accepted it
            }
            catch (Exception ex)
            {
                Fail(handler, ex);
            }
        }

        _dirty.Clear();
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

        int timerMs = ToWaitMilliseconds(nextDue - Stopwatch.GetTimestamp());
        return maxWaitMs < 0 ? timerMs : Math.Min(timerMs, maxWaitMs);
    }

    // Phase 3: dispatch, receive before send, dropping events for handlers removed since the wait.
    private int Dispatch(int count)
    {
        int dispatched = 0;
        for (int i = 0; i < count; i++)
        {
            ReadyEvent ev = _events[i];
            if (ev.Token == WakerToken)
            {
                // Drain before clearing the flag. A Post racing with us either saw the flag still set
                // (its action was queued before our clear, so this turn's posted phase or the next
                // timeout check sees it) or writes again after the drain (a spurious wake-up at worst).
                // Clearing first would let the drain swallow a write made in between and leave the flag
                // set with nothing pending: every later Post and Stop would skip the write and the loop
                // would sleep through them.
                _waker.Drain();
                Interlocked.Exchange(ref _wakePending, 0);
                continue;
            }

            int slot = (int)(uint)ev.Token;
            uint generation = (uint)(ev.Token >> 32);
            if (slot >= _slots.Length)
            {
                continue;
            }

            Registration reg = _slots[slot];
            IEventHandler? handler = reg.Handler;
            if (handler is null || reg.Generation != generation)
            {
                continue; // removed (and maybe replaced) earlier in this turn
            }

            Interest ready = ev.Failed ? reg.Registered : ev.Ready & reg.Registered;
            if (ready == Interest.None)
            {
                continue;
            }

            dispatched++;
            MarkDirty(reg);
            _dispatching = reg; // its Update calls are redundant now: it is already marked
            try
            {
                if ((ready & Interest.Readable) != 0)
                {
                    handler.HandleReceive();
                }

                // Skip HandleSend if HandleReceive closed it.
                if ((ready & Interest.Writable) != 0 && reg.Generation == generation && handler.WantsToSend)
                {
                    handler.HandleSend();
                }
            }
            catch (Exception ex)
            {
                if (reg.Generation == generation)
                {
                    Fail(handler, ex);
                }
                else
                {
                    EventLoopLog.CallbackFailed(_logger, ex);
                }
            }

            _dispatching = null;
            ReportIfSlow(handler);
        }

        return dispatched;
    }

    // Phase 4: timers due now, in (due, sequence) order; ones scheduled while this phase runs wait a turn.
    private int RunDueTimers()
    {
        if (_timers.Count == 0)
        {
            return 0;
        }

        int ran = 0;
        long limit = _timers.NextSequence();
        while (_timers.TryDequeueDue(_now, limit, out TimerHandle? timer))
        {
            ran++;
            Invoke(timer.Callback, timer.State);
        }

        return ran;
    }

    // Phase 5: actions posted before this phase began; ones they post run next turn, so none can starve I/O.
    private int RunPosted()
    {
        if (_posted.IsEmpty)
        {
            return 0;
        }

        int count = _posted.Count;
        int ran = 0;
        while (ran < count && _posted.TryDequeue(out PostedWork work))
        {
            ran++;
            Invoke(work.Action, work.State);
        }

        return ran;
    }

    // Runs a timer or posted callback: exceptions are logged, slowness is reported.
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
        ReportIfSlow(state is Delegate inner && action == s_invokeAction ? inner : action);
    }

    // One clock read per callback: each one's end is the next one's start (the first starts after the wait).
    private void ReportIfSlow(object callback)
    {
        long ended = Stopwatch.GetTimestamp();
        long elapsed = ended - _callbackStart;
        _callbackStart = ended;
        if (elapsed > _slowTicks)
        {
            ReportSlow(callback, elapsed);
        }
    }

    // A handler or a delegate; its name is built only when the warning is logged, so a slow turn costs
    // no allocation when logging is off (a preempted loop thread can make any call look slow).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReportSlow(object callback, long elapsedTicks)
    {
        SlowCallbackCount++;
        if (!_logger.IsEnabled(LogLevel.Warning))
        {
            return;
        }

        string name = callback is Delegate d
            ? $"{d.Method.DeclaringType?.FullName}.{d.Method.Name}"
            : callback.GetType().FullName ?? callback.GetType().Name;
        EventLoopLog.SlowCallback(_logger, name, elapsedTicks * 1000.0 / Stopwatch.Frequency, _slowTicks * 1000.0 / Stopwatch.Frequency);
    }

    private void Fail(IEventHandler handler, Exception ex)
    {
        EventLoopLog.HandlerFailed(_logger, handler.GetType().Name, ex);
        Remove(handler);
        Close(handler);
    }

    private void Close(IEventHandler handler)
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

    // A new handle got the number of a registered one: the old owner closed its handle without Remove.
    // The kernel dropped its epoll registration on close; drop ours without touching the new file.
    private void EvictStaleOwner(int fd)
    {
        if (fd >= _byDescriptor.Length || _byDescriptor[fd] is not { Handler: { } stale } reg)
        {
            return;
        }

        EventLoopLog.DescriptorReused(_logger, fd, stale.GetType().Name);
        _byHandler.Remove(stale);
        if (reg.Registered != Interest.None && !_poller.ForgetsClosedDescriptors)
        {
            _poller.Remove(fd);
        }

        _byDescriptor[fd] = null;
        FreeRegistration(reg);
    }

    private static Interest ReadWants(IEventHandler handler)
        => (handler.WantsToReceive ? Interest.Readable : Interest.None) | (handler.WantsToSend ? Interest.Writable : Interest.None);

    private void MarkDirty(Registration reg)
    {
        if (!reg.Dirty)
        {
            reg.Dirty = true;
            _dirty.Add(reg);
        }
    }

    private Registration AllocateRegistration()
    {
        if (_freeSlots.TryPop(out int slot))
        {
            return _slots[slot];
        }

        slot = _slots.Length;
        Array.Resize(ref _slots, Math.Max(16, slot * 2));
        for (int i = _slots.Length - 1; i > slot; i--)
        {
            _slots[i] = new Registration(i);
            _freeSlots.Push(i);
        }

        return _slots[slot] = new Registration(slot);
    }

    private void FreeRegistration(Registration reg)
    {
        reg.Handler = null;
        reg.Descriptor = -1;
        reg.Registered = Interest.None;
        reg.Generation++;
        _freeSlots.Push(reg.Slot);
    }

    private void Wake()
    {
        // The loop thread itself is not waiting: its next timeout check sees the posted work or the stop.
        if (IsOnLoopThread)
        {
            return;
        }

        // Only the first waker since the loop last drained writes to the eventfd.
        if (Interlocked.Exchange(ref _wakePending, 1) == 0 && !_disposed)
        {
            _waker.Wake();
        }
    }

    private void EnterLoop()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int me = Environment.CurrentManagedThreadId;
        int owner = Interlocked.CompareExchange(ref _loopThreadId, me, 0);
        if (owner != 0)
        {
            throw new InvalidOperationException(owner == me
                ? "The loop is already running on this thread (Run and RunOnce do not nest)."
                : "The loop is already running on another thread.");
        }
    }

    private void ExitLoop() => Volatile.Write(ref _loopThreadId, 0);

    private void EnsureUsable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        EnsureLoopThread();
    }

    private void EnsureLoopThread()
    {
        if (!OnLoopThreadOrIdle)
        {
            throw new InvalidOperationException("This EventLoop member must be called on the loop thread; use Post from other threads.");
        }
    }

    internal static long ToTimestampTicks(TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            return 0;
        }

        // Round up so that a timer never fires before its delay; saturate absurd delays.
        double ticks = Math.Ceiling(delay.Ticks * (double)Stopwatch.Frequency / TimeSpan.TicksPerSecond);
        return ticks >= long.MaxValue / 4 ? long.MaxValue / 4 : (long)ticks;
    }

    private static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue - 1 : a + b;

    // Stopwatch ticks → a poll timeout in whole milliseconds, rounded up, capped at int.MaxValue.
    private static int ToWaitMilliseconds(long ticks)
    {
        if (ticks <= 0)
        {
            return 0;
        }

        long ms = (long)Math.Ceiling(ticks * 1000.0 / Stopwatch.Frequency);
        return ms >= int.MaxValue ? int.MaxValue : (int)ms;
    }
}
