namespace EventIO;

/// <summary>
/// Which thread a loop belongs to: the one inside <see cref="EventLoop.Run"/>, <see cref="EventLoop.RunOnce"/>
/// or <see cref="EventLoop.Dispose"/>; before the loop first runs, the thread that created it; after, the
/// thread that ran it last. Entering refuses to nest or to run beside another thread.
/// </summary>
/// <remarks><b>Threading:</b> the queries from any thread (one read each); enter and exit by the running thread.</remarks>
internal sealed class LoopOwnership
{
    [ThreadStatic]
    private static EventLoop? t_current;

    private int _ownerThreadId;
    private int _activeThreadId; // 0 when no thread is inside

    internal LoopOwnership() => _ownerThreadId = Environment.CurrentManagedThreadId;

    /// <summary>The loop the calling thread is running, or null.</summary>
    internal static EventLoop? Current => t_current;

    /// <summary>True on the loop's thread.</summary>
    internal bool IsOwner => Environment.CurrentManagedThreadId == Volatile.Read(ref _ownerThreadId);

    /// <summary>True when the calling thread is inside the loop right now (its next timeout check sees what it posts).</summary>
    internal bool IsActiveHere => Volatile.Read(ref _activeThreadId) == Environment.CurrentManagedThreadId;

    /// <summary>True while some thread is inside the loop.</summary>
    internal bool IsActive => Volatile.Read(ref _activeThreadId) != 0;

    /// <summary>Makes the calling thread the loop's thread until <see cref="Exit"/>; returns the loop it was running before.</summary>
    /// <exception cref="InvalidOperationException">A thread is inside already (this one included).</exception>
    internal EventLoop? Enter(EventLoop loop)
    {
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
        t_current = loop;
        return outer;
    }

    /// <summary>Leaves the loop; the thread stays its owner until another one enters.</summary>
    internal void Exit(EventLoop? outer)
    {
        t_current = outer;
        Volatile.Write(ref _activeThreadId, 0);
    }
}
