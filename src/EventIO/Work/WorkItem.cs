namespace EventIO.Work;

/// <summary>One unit of queued work: runs on a worker, then completes on the loop thread.</summary>
internal abstract class WorkItem
{
    /// <summary>Runs the work on a worker thread, capturing its result or exception.</summary>
    internal abstract void Execute();

    /// <summary>Records that the work will never run (the pool shut down).</summary>
    internal abstract void Cancel();

    /// <summary>Invokes the callback on the loop thread.</summary>
    internal abstract void Complete();
}
