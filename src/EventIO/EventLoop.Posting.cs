namespace EventIO;

/// <summary>Actions posted to the loop from any thread: the public API and the posted phase of a turn.</summary>
public sealed partial class EventLoop
{
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
        return _posted.TryEnqueue(new PostedWork(action, state), wake: !_ownership.IsActiveHere); // a running loop sees its own posts
    }

    private int RunPosted()
    {
        _posted.BeginBatch(); // those posted while the batch runs wait a turn, so none can starve I/O
        int ran = 0;
        while (_posted.TryTake(out PostedWork work))
        {
            ran++;
            long elapsed = Invoke(work.Action, work.State);
            if (_turnTrace is { } trace)
            {
                TracePosted(trace, work, elapsed);
            }
        }

        return ran;
    }

    private static void TracePosted(Diagnostics.LoopTrace trace, in PostedWork work, long elapsed)
    {
        if (work.State is Work.WorkItem item)
        {
            trace.PostedRan(item.Callback, workerCompletion: true, elapsed);
        }
        else
        {
            trace.PostedRan(Named(work.Action, work.State), workerCompletion: false, elapsed);
        }
    }
}
