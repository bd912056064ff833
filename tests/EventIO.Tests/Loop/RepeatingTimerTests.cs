using System.Diagnostics;
using EventIO.Tests.Infrastructure;
using EventIO.Timers;

namespace EventIO.Tests.Loop;

/// <summary><see cref="EventLoop.CallEvery(TimeSpan, Action)"/>: repeats until cancelled, never early, no burst after a stall.</summary>
public sealed class RepeatingTimerTests
{
    [Fact]
    public void CallEvery_RepeatsAtItsPeriod_UntilCancelled_EvenFromItsOwnCallback()
    {
        using var loop = new EventLoop();
        var fired = new List<long>();
        var start = Stopwatch.GetTimestamp();
        TimerHandle? timer = null;
        timer = loop.CallEvery(TimeSpan.FromMilliseconds(20), () =>
        {
            fired.Add(Stopwatch.GetTimestamp());
            if (fired.Count == 5)
            {
                timer!.Cancel();
            }
        });

        LoopDriver.RunUntil(loop, () => fired.Count == 5);
        Assert.False(timer.IsActive);
        Assert.Equal(0, loop.PendingTimers);
        for (int i = 0; i < fired.Count; i++)
        {
            double afterStartMs = Stopwatch.GetElapsedTime(start, fired[i]).TotalMilliseconds;
            Assert.True(afterStartMs >= 20.0 * (i + 1) - 0.001, $"run {i} came {afterStartMs:F1} ms after start: early");
        }

        Assert.Equal(0, loop.RunOnce(TimeSpan.FromMilliseconds(60)));
        Assert.Equal(5, fired.Count);
    }

    [Fact]
    public void CallEvery_AfterTheLoopStalled_SkipsTheMissedRuns_InsteadOfABurst()
    {
        using var loop = new EventLoop();
        int fired = 0;
        loop.CallEvery(TimeSpan.FromMilliseconds(10), () => fired++);

        Thread.Sleep(200); // twenty periods pass with nobody running the loop (a stopped process, a long callback)
        long turns = Stopwatch.GetTimestamp();
        loop.RunOnce(TimeSpan.Zero);
        loop.RunOnce(TimeSpan.Zero);

        // One run for the twenty missed, not a burst; a loaded machine may let one more period pass between
        // the two turns, and that run is due.
        int due = 1 + (int)(Stopwatch.GetElapsedTime(turns).TotalMilliseconds / 10);
        Assert.InRange(fired, 1, Math.Min(due, 19));
        Assert.Equal(1, loop.PendingTimers);
    }

    [Fact]
    public void CallEvery_NeedsAPositivePeriod_AndTheLoopThread()
    {
        using var loop = new EventLoop();
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.CallEvery(TimeSpan.Zero, () => { }));
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.CallEvery(TimeSpan.FromSeconds(-1), () => { }));
        var thread = new Thread(() => Assert.Throws<InvalidOperationException>(() => loop.CallEvery(TimeSpan.FromSeconds(1), () => { })));
        thread.Start();
        Assert.True(thread.Join(TestTimeouts.Passing));
        Assert.Equal(0, loop.PendingTimers);
    }
}
