using System.Diagnostics;
using EventIO.Tests.Infrastructure;
using EventIO.Timers;
using Microsoft.Extensions.Logging;

namespace EventIO.Tests.Loop;

/// <summary>Timers on the default backend: ordering, cancellation, never early, never synchronous.</summary>
public sealed class EventLoopTimerTests
{
    [Fact]
    public void Timers_RunInDueOrder()
    {
        using var loop = new EventLoop();
        var ran = new List<string>();
        loop.CallLater(TimeSpan.FromMilliseconds(60), () => ran.Add("60"));
        loop.CallLater(TimeSpan.FromMilliseconds(10), () => ran.Add("10"));
        loop.CallLater(TimeSpan.FromMilliseconds(35), () => ran.Add("35"));
        loop.CallLater(TimeSpan.FromMilliseconds(20), () => ran.Add("20"));
        Assert.Equal(4, loop.PendingTimers);

        LoopDriver.RunUntil(loop, () => ran.Count == 4);

        Assert.Equal(["10", "20", "35", "60"], ran);
        Assert.Equal(0, loop.PendingTimers);
    }

    [Fact]
    public void TimersWithEqualDelays_RunInSchedulingOrder()
    {
        using var loop = new EventLoop();
        var ran = new List<int>();
        // 250 ms: scheduling the zero-delay ones below must not take longer than that, even when this
        // thread is preempted on a busy machine (with 5 ms it sometimes did).
        for (int i = 0; i < 50; i++)
        {
            loop.CallLater(TimeSpan.FromMilliseconds(250), static s => ((List<int>)s!).Add(((List<int>)s!).Count), ran);
        }

        for (int i = 0; i < 50; i++)
        {
            int n = i;
            loop.CallLater(TimeSpan.Zero, () => ran.Add(1000 + n));
        }

        LoopDriver.RunUntil(loop, () => ran.Count == 100);

        // The zero-delay ones are due first, in the order they were scheduled; then the 250 ms ones.
        Assert.Equal(Enumerable.Range(1000, 50).Concat(Enumerable.Range(50, 50)), ran);
    }

    [Fact]
    public void Cancel_PreventsTheCallback_EvenFromAnEarlierTimerInTheSameTurn()
    {
        using var loop = new EventLoop();
        var ran = new List<string>();
        TimerHandle? last = null;
        TimerHandle a = loop.CallLater(TimeSpan.Zero, () =>
        {
            ran.Add("a");
            last!.Cancel(); // due in this same turn, cancelled before it runs
        });
        TimerHandle b = loop.CallLater(TimeSpan.Zero, () => ran.Add("b"));
        TimerHandle c = loop.CallLater(TimeSpan.Zero, () => ran.Add("c"));
        last = loop.CallLater(TimeSpan.Zero, () => ran.Add("last"));

        b.Cancel();
        Assert.False(b.IsActive);
        Assert.True(a.IsActive);
        Assert.Equal(3, loop.PendingTimers);

        Assert.Equal(2, loop.RunOnce(TestTimeouts.Passing));
        Assert.Equal(0, loop.RunOnce(LoopDriver.Short));

        Assert.Equal(["a", "c"], ran);
        Assert.False(a.IsActive);
        Assert.False(c.IsActive);
        Assert.False(last.IsActive);
        Assert.Equal(0, loop.PendingTimers);
        a.Cancel(); // cancelling one that already ran does nothing
        b.Cancel(); // idempotent
        Assert.Equal(0, loop.PendingTimers);
    }

    [Fact]
    public void Cancel_FromAnotherThread_RemovesTheTimer()
    {
        using var loopThread = new LoopThread();
        EventLoop loop = loopThread.Loop;
        int fired = 0;
        TimerHandle timer = loopThread.Invoke(() => loop.CallLater(TimeSpan.FromHours(1), () => Interlocked.Increment(ref fired)));
        TimerHandle other = loopThread.Invoke(() => loop.CallLater(TimeSpan.FromHours(2), () => { }));
        Assert.True(timer.IsActive);
        Assert.Equal(2, loopThread.Invoke(() => loop.PendingTimers));

        timer.Cancel(); // test thread, while the loop runs: handed to the loop thread

        // Out of the heap, so it can never fire; the other timer is untouched.
        Eventually.True(() => !timer.IsActive);
        Assert.Equal(1, loopThread.Invoke(() => loop.PendingTimers));
        Assert.True(other.IsActive);
        Assert.Equal(0, Volatile.Read(ref fired));
        timer.Cancel(); // idempotent from any thread
        Assert.Equal(1, loopThread.Invoke(() => loop.PendingTimers));
    }

    [Fact]
    public void ZeroAndNegativeDelays_RunOnTheNextTurn_NotInsideCallLater()
    {
        using var loop = new EventLoop();
        var ran = new List<string>();

        loop.CallLater(TimeSpan.Zero, () => ran.Add("zero"));
        loop.CallLater(TimeSpan.FromSeconds(-5), () => ran.Add("negative"));
        loop.CallLater(TimeSpan.MinValue, () => ran.Add("min"));

        Assert.Empty(ran);
        Assert.Equal(3, loop.PendingTimers);
        Assert.Equal(3, loop.RunOnce(TestTimeouts.Passing));
        Assert.Equal(["zero", "negative", "min"], ran);
    }

    [Fact]
    public void ZeroDelayTimer_RunsEvenWhenRunOnceIsAskedToWaitForever()
    {
        using var loopThread = new LoopThread();
        using var done = new ManualResetEventSlim();
        loopThread.Invoke(() => loopThread.Loop.CallLater(TimeSpan.Zero, done.Set));
        Assert.True(done.Wait(TestTimeouts.Passing));
    }

    [Fact]
    public void Timer_NeverFiresEarly()
    {
        using var loop = new EventLoop();
        int[] delaysMs = [1, 2, 5, 10, 15, 25, 40];
        var elapsed = new TimeSpan?[delaysMs.Length];
        for (int i = 0; i < delaysMs.Length; i++)
        {
            int index = i;
            var sw = Stopwatch.StartNew();
            loop.CallLater(TimeSpan.FromMilliseconds(delaysMs[i]), () => elapsed[index] = sw.Elapsed);
        }

        LoopDriver.RunUntil(loop, () => Array.TrueForAll(elapsed, e => e.HasValue));

        for (int i = 0; i < delaysMs.Length; i++)
        {
            Assert.True(elapsed[i] >= TimeSpan.FromMilliseconds(delaysMs[i]), $"a {delaysMs[i]} ms timer fired after {elapsed[i]!.Value.TotalMilliseconds} ms");
        }
    }

    [Fact]
    public void PollTimeout_FollowsTheEarliestTimer()
    {
        using var loopThread = new LoopThread();
        EventLoop loop = loopThread.Loop;
        using var fired = new ManualResetEventSlim();
        var sw = new Stopwatch();
        TimeSpan? firedAfter = null;

        // Run blocks with no timeout of its own: only the 50 ms timer can wake it.
        loopThread.Invoke(() =>
        {
            loop.CallLater(TimeSpan.FromHours(1), () => { });
            sw.Start();
            loop.CallLater(TimeSpan.FromMilliseconds(50), () =>
            {
                firedAfter = sw.Elapsed;
                fired.Set();
            });
        });

        Assert.True(fired.Wait(TestTimeouts.Passing), "a 50 ms timer did not fire while the loop slept");
        Assert.True(firedAfter >= TimeSpan.FromMilliseconds(50));
        Assert.Equal(1, loopThread.Invoke(() => loop.PendingTimers));
    }

    [Fact]
    public void TimerScheduledByATimerWithZeroDelay_RunsOnALaterTurn()
    {
        using var loop = new EventLoop();
        var ran = new List<string>();
        loop.CallLater(TimeSpan.Zero, () =>
        {
            ran.Add("outer");
            loop.CallLater(TimeSpan.Zero, () => ran.Add("inner"));
        });

        Assert.Equal(1, loop.RunOnce(TestTimeouts.Passing));
        Assert.Equal(["outer"], ran);
        Assert.Equal(1, loop.PendingTimers);

        Assert.Equal(1, loop.RunOnce(TestTimeouts.Passing));
        Assert.Equal(["outer", "inner"], ran);
    }

    [Fact]
    public void ThrowingTimer_IsLogged_AndLaterTimersStillRun()
    {
        var logger = new CollectingLogger();
        using var loop = new EventLoop(new EventLoopOptions { Logger = logger });
        var failure = new InvalidOperationException("timer failed");
        var ran = new List<string>();
        loop.CallLater(TimeSpan.Zero, () => throw failure);
        loop.CallLater(TimeSpan.Zero, () => ran.Add("same turn"));
        loop.CallLater(TimeSpan.FromMilliseconds(10), () => ran.Add("later"));

        LoopDriver.RunUntil(loop, () => ran.Count == 2);

        Assert.Equal(["same turn", "later"], ran);
        LogEntry entry = Assert.Single(logger.Entries, e => e.Level == LogLevel.Error);
        Assert.Same(failure, entry.Exception);
    }

    [Fact]
    public void CallLater_WithState_PassesTheState()
    {
        using var loop = new EventLoop();
        object state = new();
        object? seen = null;
        loop.CallLater(TimeSpan.Zero, s => seen = s, state);

        Assert.Equal(1, loop.RunOnce(TestTimeouts.Passing));
        Assert.Same(state, seen);
    }
}
