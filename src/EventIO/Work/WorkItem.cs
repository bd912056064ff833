namespace EventIO.Work;

/// <summary>One unit of queued work: runs on a worker, then completes on the loop that queued it.</summary>
internal abstract class WorkItem
{
    private static readonly Action<object?> s_complete = static item => ((WorkItem)item!).Complete();

    /// <summary>Creates an item whose callback runs on <paramref name="loop"/>.</summary>
    protected WorkItem(EventLoop loop) => Loop = loop;

    /// <summary>The loop the callback runs on: the one whose thread queued the work.</summary>
    internal EventLoop Loop { get; }

    /// <summary>The callback that completes the work on the loop (what a trace names).</summary>
    internal abstract Delegate Callback { get; }

    /// <summary>The work itself (what a trace names).</summary>
    internal abstract Delegate Work { get; }

    /// <summary>Runs the work on a worker thread, capturing its result or exception; false if it threw.</summary>
    internal abstract bool Execute();

    /// <summary>Records that the work will never run (the pool shut down).</summary>
    internal abstract void Cancel();

    /// <summary>Invokes the callback on the loop thread.</summary>
    internal abstract void Complete();

    /// <summary>Hands the item back to its loop; false if that loop is gone (the callback can never run).</summary>
    internal bool PostCompletion() => Loop.Post(s_complete, this);
}
