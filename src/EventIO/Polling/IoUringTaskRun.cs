namespace EventIO.Polling;

/// <summary>
/// How an <see cref="IoUring"/> asks the kernel to run completion work, from the most efficient to the most
/// widely supported; <see cref="IoUring.TryCreate(uint, uint, IoUringTaskRun, out IoUring?, out string)"/>
/// starts at the chosen one and falls back down the list when the kernel answers EINVAL.
/// </summary>
internal enum IoUringTaskRun
{
    /// <summary>
    /// IORING_SETUP_SINGLE_ISSUER|DEFER_TASKRUN|SUBMIT_ALL (6.1): completion work runs only when the creating
    /// thread enters the kernel with GETEVENTS, batched, never interrupting it. What the backend wants.
    /// </summary>
    Deferred,

    /// <summary>
    /// IORING_SETUP_COOP_TASKRUN|TASKRUN_FLAG|SUBMIT_ALL (5.19): completion work waits for the submitter's next
    /// transition to the kernel (no inter-processor interrupt); IORING_SQ_TASKRUN says when some is pending.
    /// </summary>
    Cooperative,

    /// <summary>No task-run flag: the kernel interrupts the submitter to post completions (any 5.11+ kernel).</summary>
    Plain,
}
