namespace EventIO.Diagnostics;

/// <summary>
/// Watches an <see cref="EventLoop"/> turn by turn (<see cref="EventLoopOptions.Tracer"/>): what the kernel was
/// told, the wait, the ready set and each dispatch, timers, posted actions. <see cref="LoopTraceWriter"/> prints
/// it; the same events go to the <c>EventIO</c> <see cref="System.Diagnostics.Tracing.EventSource"/> while a
/// session listens (<c>dotnet-trace collect --providers EventIO</c>).
/// </summary>
/// <remarks>
/// <para><b>Cost:</b> with no tracer and no listener, one check per turn and one per callback (a null field);
/// nothing is allocated. A turn for which <see cref="BeginTurn"/> returns false costs the same.</para>
/// <para><b>Threading:</b> every member is called on the loop thread of <c>eventLoop</c>, between
/// <see cref="BeginTurn"/> and <see cref="EndTurn"/> of one turn; one tracer may serve several loops (each on
/// its own thread). Durations are measured with the clock reads the loop makes anyway.</para>
/// </remarks>
public abstract class LoopTracer
{
    /// <summary>A turn of <paramref name="eventLoop"/> begins; return false to leave it untraced (a limit, sampling).</summary>
    /// <param name="eventLoop">The loop.</param>
    /// <param name="turn">The turn's number, from 1.</param>
    public abstract bool BeginTurn(EventLoop eventLoop, long turn);

    /// <summary>
    /// The kernel was told that <paramref name="handler"/> now wants <paramref name="current"/> instead of <paramref name="previous"/>:
    /// an add (from <see cref="Interest.None"/>), a remove (to <see cref="Interest.None"/>) or a modify.
    /// </summary>
    /// <param name="eventLoop">The loop.</param>
    /// <param name="handler">The handler.</param>
    /// <param name="descriptor">Its descriptor.</param>
    /// <param name="previous">The interest the kernel held.</param>
    /// <param name="current">The interest it holds now.</param>
    public virtual void InterestChanged(EventLoop eventLoop, IEventHandler handler, int descriptor, Interest previous, Interest current)
    {
    }

    /// <summary>The loop is about to wait at most <paramref name="timeoutMs"/> (-1: no limit) for the reason given.</summary>
    /// <param name="eventLoop">The loop.</param>
    /// <param name="timeoutMs">The timeout given to the poller, in milliseconds; -1 for none.</param>
    /// <param name="reason">Why this timeout.</param>
    public virtual void Waiting(EventLoop eventLoop, int timeoutMs, LoopWaitReason reason)
    {
    }

    /// <summary>The wait returned <paramref name="events"/> events after <paramref name="waited"/>.</summary>
    /// <param name="eventLoop">The loop.</param>
    /// <param name="events">Events the poller returned (readiness, or io_uring completions).</param>
    /// <param name="waited">How long it really waited.</param>
    public virtual void Woke(EventLoop eventLoop, int events, TimeSpan waited)
    {
    }

    /// <summary>A ready handler was dispatched: receive before send, as the recipe.</summary>
    /// <param name="eventLoop">The loop.</param>
    /// <param name="handler">The handler (the loop's own waker included: that is a wake-up).</param>
    /// <param name="descriptor">Its descriptor.</param>
    /// <param name="ready">What was dispatched: readable, writable or both.</param>
    /// <param name="failed">The kernel reported an error or a hang-up.</param>
    /// <param name="elapsed">How long the handler held the loop.</param>
    public virtual void Dispatched(EventLoop eventLoop, IEventHandler handler, int descriptor, Interest ready, bool failed, TimeSpan elapsed)
    {
    }

    /// <summary>An io_uring request of a building block completed and was handed to its owner (the io_uring backend).</summary>
    /// <param name="eventLoop">The loop.</param>
    /// <param name="owner">The connection, listener or server that submitted it.</param>
    /// <param name="operation"><c>recv</c>, <c>send</c>, <c>accept</c>, <c>recvmsg</c> or <c>sendmsg</c>.</param>
    /// <param name="result">Bytes, a descriptor, or -errno.</param>
    /// <param name="elapsed">How long the owner held the loop.</param>
    public virtual void Completed(EventLoop eventLoop, object owner, string operation, int result, TimeSpan elapsed)
    {
    }

    /// <summary>A timer ran.</summary>
    /// <param name="eventLoop">The loop.</param>
    /// <param name="callback">What it ran (the <see cref="Action"/> given to <c>CallLater</c>, or the callback with state).</param>
    /// <param name="elapsed">How long it held the loop.</param>
    public virtual void TimerRan(EventLoop eventLoop, Delegate callback, TimeSpan elapsed)
    {
    }

    /// <summary>A posted action ran.</summary>
    /// <param name="eventLoop">The loop.</param>
    /// <param name="callback">What it ran; for a worker-pool completion, the callback given to <c>TryRun</c>.</param>
    /// <param name="workerCompletion">True when it is a <see cref="Work.WorkerPool"/> result coming back to the loop.</param>
    /// <param name="elapsed">How long it held the loop.</param>
    public virtual void PostedRan(EventLoop eventLoop, Delegate callback, bool workerCompletion, TimeSpan elapsed)
    {
    }

    /// <summary>A handler queued work on a <see cref="Work.WorkerPool"/>; its completion comes back as a posted action.</summary>
    /// <param name="eventLoop">The loop.</param>
    /// <param name="work">The work queued.</param>
    public virtual void WorkQueued(EventLoop eventLoop, Delegate work)
    {
    }

    /// <summary>The turn ended.</summary>
    /// <param name="eventLoop">The loop.</param>
    /// <param name="turn">The turn's number.</param>
    /// <param name="work">Handler dispatches, timers and posted actions run (the loop's own waker not counted).</param>
    /// <param name="busy">Time from the end of the wait to the end of the turn.</param>
    public virtual void EndTurn(EventLoop eventLoop, long turn, int work, TimeSpan busy)
    {
    }
}
