using EventIO.Work;

namespace EventIO.Tests.Units;

/// <summary>The adaptive worker policy's rule, on one sample's numbers (the governor thread feeds it real ones).</summary>
public sealed class AdaptiveWorkerPolicyTests
{
    private const double Window = 5_000_000; // 5 ms
    private static readonly AdaptiveWorkerPolicy Policy = AdaptiveWorkerPolicy.Default;

    [Fact]
    public void WorkersStarvedByAnotherProgram_ArePromoted()
    {
        // One CPU, the loop idle, one running worker got 15 µs of 5 ms: something else has the CPU.
        Assert.Equal(GovernorAction.Promote, Policy.Decide(Sample(loopCpu: 0, loopWait: 0, watched: 1, promoted: 0, workerCpu: 15_000)));
    }

    [Fact]
    public void WorkersGettingWhatTheLoopLeaves_StayIdle()
    {
        // The loop used 70 % of the one CPU and the 16 workers got the other 28 %: nothing to promote.
        Assert.Equal(GovernorAction.None, Policy.Decide(Sample(loopCpu: 3_500_000, loopWait: 20_000, watched: 16, promoted: 0, workerCpu: 1_400_000)));
    }

    [Fact]
    public void ALoopThatUsesTheWholeCpu_LeavesNothingToWant()
    {
        Assert.Equal(GovernorAction.None, Policy.Decide(Sample(loopCpu: 5_000_000, loopWait: 0, watched: 4, promoted: 0, workerCpu: 0)));
    }

    [Fact]
    public void AServingLoopThatWaitedBehindPromotedWorkers_SendsThemBack()
    {
        Assert.Equal(GovernorAction.Demote, Policy.Decide(Sample(loopCpu: 1_000_000, loopWait: 1_500_000, watched: 1, promoted: 1, workerCpu: 2_500_000, promotedCpu: 2_500_000)));
    }

    [Fact]
    public void ALoopStillWaitingForACpu_BehindPromotedWork_SendsItBack()
    {
        // The kernel counts a wait only once the thread runs: a loop starved all through the sample shows no
        // wait and no CPU, only that it is runnable.
        GovernorSample starved = Sample(loopCpu: 0, loopWait: 0, watched: 4, promoted: 4, workerCpu: 5_000_000, promotedCpu: 5_000_000) with { LoopStarved = true };
        Assert.Equal(GovernorAction.Demote, Policy.Decide(starved));
        Assert.Equal(GovernorAction.None, Policy.Decide(starved with { PromotedRunning = 0, WatchedRunning = 4 } with { MayPromote = false }));
    }

    [Theory]
    [InlineData(40_000, 1_500_000, 2_500_000)]  // a nearly idle loop (0.8 % of the window) waited once behind any busy program
    [InlineData(1_000_000, 1_500_000, 0)]       // the promoted worker did not run: it cannot be what the loop waited for
    [InlineData(1_000_000, 3_000_000, 1_000_000)] // it ran 1 ms while the loop waited 3: another program had the CPU
    [InlineData(1_000_000, 400_000, 2_500_000)] // the loop waited under a tenth of the window
    public void LoopWaits_NotCausedByPromotedWorkers_ChangeNothing(long loopCpu, long loopWait, long promotedCpu)
    {
        Assert.Equal(GovernorAction.None, Policy.Decide(Sample(loopCpu, loopWait, watched: 1, promoted: 1, workerCpu: promotedCpu, promotedCpu: promotedCpu)));
    }

    [Fact]
    public void NoPromotion_WhileHeldOrAtTheCap_OrWithNothingWatched()
    {
        Assert.Equal(GovernorAction.None, Policy.Decide(Sample(0, 0, watched: 1, promoted: 0, workerCpu: 0, mayPromote: false)));
        Assert.Equal(GovernorAction.None, Policy.Decide(Sample(0, 0, watched: 0, promoted: 0, workerCpu: 0)));
        Assert.Equal(GovernorAction.None, Policy.Decide(Sample(0, 0, watched: 1, promoted: 1, workerCpu: 0, promotedCpu: 0)));
    }

    [Fact]
    public void Validate_NamesTheKnobOutOfRange()
    {
        Assert.Equal("SampleInterval", Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveWorkerPolicy { SampleInterval = TimeSpan.Zero }.Validate()).ParamName);
        Assert.Equal("StarvedShare", Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveWorkerPolicy { StarvedShare = 0 }.Validate()).ParamName);
        Assert.Equal("LoopWaitShare", Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveWorkerPolicy { LoopWaitShare = double.NaN }.Validate()).ParamName);
        Assert.Equal("LoopBusyShare", Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveWorkerPolicy { LoopBusyShare = 2 }.Validate()).ParamName);
        Assert.Equal("PromotedNice", Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveWorkerPolicy { PromotedNice = 20 }.Validate()).ParamName);
        Assert.Equal("MaxPromoted", Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveWorkerPolicy { MaxPromoted = -1 }.Validate()).ParamName);
        Assert.Equal("HoldAfterLoopWait", Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveWorkerPolicy { HoldAfterLoopWait = TimeSpan.FromSeconds(-1) }.Validate()).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(1, 1, WorkerPriority.Adaptive, new AdaptiveWorkerPolicy { StarvedShare = 1.5 }));
        AdaptiveWorkerPolicy.Default.Validate();
    }

    private static GovernorSample Sample(long loopCpu, long loopWait, int watched, int promoted, long workerCpu, long promotedCpu = 0, bool mayPromote = true)
        => new(Window, Cpus: 1, loopCpu, loopWait, watched, promoted, workerCpu, promotedCpu, mayPromote);
}
