namespace EventIO.Async;

/// <summary>
/// <see cref="EventLoop.TaskScheduler"/>: runs tasks one at a time on the loop thread, queued through the loop's
/// post queue; inline only when already on the running loop's thread.
/// </summary>
/// <remarks><b>Threading:</b> any thread.</remarks>
internal sealed class LoopTaskScheduler : TaskScheduler
{
    private readonly EventLoop _loop;
    private readonly Action<object?> _execute;

    internal LoopTaskScheduler(EventLoop loop)
    {
        _loop = loop;
        _execute = task => TryExecuteTask((Task)task!);
    }

    /// <summary>One: the loop runs one callback at a time.</summary>
    public override int MaximumConcurrencyLevel => 1;

    /// <inheritdoc/>
    protected override void QueueTask(Task task) => _loop.PostOrRun(_execute, task);

    /// <inheritdoc/>
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => _loop.IsActiveHere && TryExecuteTask(task);

    /// <summary>Empty: the queued tasks sit in the loop's post queue among other actions (debugger support only).</summary>
    protected override IEnumerable<Task> GetScheduledTasks() => [];
}
