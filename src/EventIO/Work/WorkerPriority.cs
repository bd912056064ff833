namespace EventIO.Work;

/// <summary>How a <see cref="WorkerPool"/>'s threads compete for the CPU with the loop thread.</summary>
public enum WorkerPriority
{
    /// <summary>Like any other thread: heavy work can take most of a core the loop shares.</summary>
    Normal = 0,

    /// <summary>Nice 10: the loop (nice 0) weighs about ten times one worker when they compete.</summary>
    Low,

    /// <summary>
    /// SCHED_IDLE: workers run only on CPU time nothing else wants, and yield the moment the loop wakes;
    /// the loop's latency is unaffected by the pool. Under full load from elsewhere, work waits.
    /// </summary>
    Idle,

    /// <summary>
    /// The default: SCHED_IDLE while the loops need the CPU, promoted to a plain thread's priority while other
    /// programs starve the work, and sent back the moment a loop has to wait (<see cref="AdaptiveWorkerPolicy"/>).
    /// Promotion needs CAP_SYS_NICE or RLIMIT_NICE; without either, work starts at the normal policy and goes
    /// to SCHED_IDLE for good when a loop waits behind it.
    /// </summary>
    Adaptive,
}
