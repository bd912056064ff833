namespace EventIO.Work;

/// <summary>
/// The knobs of <see cref="WorkerPriority.Adaptive"/>: workers start under SCHED_IDLE (they never delay a
/// loop), and a governor thread samples, every <see cref="SampleInterval"/> while work runs, how much CPU the
/// running workers got and how long the loops that queued the work waited for a CPU. A worker that got less
/// than <see cref="StarvedShare"/> of the CPU the process's loops left free (other programs took it) is
/// promoted to SCHED_OTHER at <see cref="PromotedNice"/>, at most <see cref="MaxPromoted"/> at a time; when a
/// loop then waits for a CPU more than <see cref="LoopWaitShare"/> of a sample while the loops were serving
/// (together they used at least <see cref="LoopBusyShare"/> of it) and promoted workers ran at least as long as
/// the loop waited, or a loop that was serving waits for a CPU all through a sample, two samples in a row, they go back to SCHED_IDLE and no
/// worker is promoted for <see cref="HoldAfterLoopWait"/> (doubled each time it recurs, up to 32 times).
/// Leaving SCHED_IDLE needs CAP_SYS_NICE or RLIMIT_NICE ≥ 20 − <see cref="PromotedNice"/>; without either,
/// items start at the normal policy and go to SCHED_IDLE, for good, when a loop waits (the worker thread is
/// then replaced after its item), and no new item starts at the normal policy during the hold.
/// </summary>
/// <remarks>Immutable once given to a <see cref="WorkerPool"/>; any thread may read it.</remarks>
public sealed class AdaptiveWorkerPolicy
{
    /// <summary>The default knobs.</summary>
    public static AdaptiveWorkerPolicy Default { get; } = new();

    /// <summary>How often the governor samples while work runs (5 ms; 1 ms..1 s). It sleeps while the pool is idle.</summary>
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// Running workers that got less than this share (0.25) of the CPU time the loops left free over a whole
    /// sample are starving: something outside the process has the CPUs. (0, 1].
    /// </summary>
    public double StarvedShare { get; init; } = 0.25;

    /// <summary>
    /// A loop that waited for a CPU longer than this share (0.10) of a sample while workers were promoted
    /// sends them back to SCHED_IDLE: the loop comes first. (0, 1].
    /// </summary>
    public double LoopWaitShare { get; init; } = 0.10;

    /// <summary>
    /// The loops count as serving when together they used at least this share (0.05) of a sample's CPU time:
    /// only then do their waits send promoted workers back (a nearly idle loop's few wake-ups wait behind any busy program
    /// on its CPU, promoted workers or not). [0, 1].
    /// </summary>
    public double LoopBusyShare { get; init; } = 0.05;

    /// <summary>The nice value of promoted workers (0, as a plain thread; 0..19).</summary>
    public int PromotedNice { get; init; }

    /// <summary>
    /// The most workers promoted at once (0, the default: one per CPU this process may use). Without the
    /// privilege to leave SCHED_IDLE, items start at the normal policy and this cap does not apply.
    /// </summary>
    public int MaxPromoted { get; init; }

    /// <summary>No promotion for this long after promoted workers made a loop wait (1 s; doubled on each recurrence, up to 32×).</summary>
    public TimeSpan HoldAfterLoopWait { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>After a promotion, new work starts promoted for this long (1 s), without waiting to starve first.</summary>
    public TimeSpan StartPromotedFor { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first knob out of range.</summary>
    public void Validate()
    {
        if (SampleInterval < TimeSpan.FromMilliseconds(1) || SampleInterval > TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(SampleInterval), SampleInterval, "Must be 1 ms..1 s.");
        }

        if (!(StarvedShare > 0 && StarvedShare <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(StarvedShare), StarvedShare, "Must be in (0, 1].");
        }

        if (!(LoopWaitShare > 0 && LoopWaitShare <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(LoopWaitShare), LoopWaitShare, "Must be in (0, 1].");
        }

        if (!(LoopBusyShare >= 0 && LoopBusyShare <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(LoopBusyShare), LoopBusyShare, "Must be in [0, 1].");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(PromotedNice, nameof(PromotedNice));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(PromotedNice, 19, nameof(PromotedNice));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxPromoted, nameof(MaxPromoted));
        ArgumentOutOfRangeException.ThrowIfLessThan(HoldAfterLoopWait, TimeSpan.Zero, nameof(HoldAfterLoopWait));
        ArgumentOutOfRangeException.ThrowIfLessThan(StartPromotedFor, TimeSpan.Zero, nameof(StartPromotedFor));
    }

    /// <summary>The rule, on one sample's numbers (pure, for tests).</summary>
    internal GovernorAction Decide(in GovernorSample sample)
    {
        double window = sample.ElapsedNanoseconds;
        if (window <= 0)
        {
            return GovernorAction.None;
        }

        // The loop's wait is put down to promoted work only if that work ran at least as long as the loop
        // waited: a loop that waited behind another program while promoted work barely ran keeps it promoted.
        if (sample.PromotedRunning > 0 && sample.LoopStarved)
        {
            return GovernorAction.Demote; // a loop runnable all along that got next to no CPU while promoted work ran
        }

        if (sample.PromotedRunning > 0 && sample.PromotedCpuNanoseconds >= sample.LoopWaitNanoseconds
            && sample.LoopWaitNanoseconds > LoopWaitShare * window && sample.LoopCpuNanoseconds >= LoopBusyShare * window)
        {
            return GovernorAction.Demote;
        }

        if (!sample.MayPromote || sample.WatchedRunning == 0 || sample.WatchedRunning <= sample.PromotedRunning)
        {
            return GovernorAction.None;
        }

        double free = Math.Max(0, (sample.Cpus * window) - sample.LoopCpuNanoseconds);
        double wanted = Math.Min(free, sample.WatchedRunning * window);
        return wanted > 0 && sample.WorkerCpuNanoseconds < StarvedShare * wanted ? GovernorAction.Promote : GovernorAction.None;
    }
}
