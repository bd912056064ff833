namespace EventIO.Work;

/// <summary>
/// One sample of the worker governor: over <see cref="ElapsedNanoseconds"/>, the CPU used by the loops that
/// queue work and the longest any of them waited for a CPU, and the CPU used by the
/// <see cref="WatchedRunning"/> workers that ran work for the whole sample (<see cref="PromotedRunning"/> of
/// them promoted, which used <see cref="PromotedCpuNanoseconds"/> of it). <see cref="LoopStarved"/>: a loop is
/// waiting for a CPU right now and barely ran in the sample (its wait is only counted once it runs).
/// </summary>
internal readonly record struct GovernorSample(
    double ElapsedNanoseconds,
    int Cpus,
    long LoopCpuNanoseconds,
    long LoopWaitNanoseconds,
    int WatchedRunning,
    int PromotedRunning,
    long WorkerCpuNanoseconds,
    long PromotedCpuNanoseconds,
    bool MayPromote,
    bool LoopStarved = false);
