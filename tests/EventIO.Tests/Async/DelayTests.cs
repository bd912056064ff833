using System.Diagnostics;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Async;

/// <summary>EventLoop.Delay: on the loop's timers, never early; cancellation; the loop's disposal.</summary>
public sealed class DelayTests
{
    [Fact]
    public async Task CompletesOnTheLoopThread_NotBeforeTheDelay()
    {
        using var loopThread = new LoopThread();
        TimeSpan delay = TimeSpan.FromMilliseconds(30);

        (TimeSpan elapsed, string? thread) = await loopThread.Loop.InvokeAsync(async () =>
        {
            long start = Stopwatch.GetTimestamp();
            await loopThread.Loop.Delay(delay);
            return (Stopwatch.GetElapsedTime(start), Thread.CurrentThread.Name);
        }).DefaultTimeout();

        Assert.True(elapsed >= delay, $"resumed after {elapsed.TotalMilliseconds} ms");
        Assert.Equal("loop-0", thread);
    }

    [Fact]
    public async Task CancelledFromAnotherThread_CompletesAsCancelled_AndItsTimerLeavesTheHeap()
    {
        using var loopThread = new LoopThread();
        using var cts = new CancellationTokenSource();

        Task delay = loopThread.Invoke(() => loopThread.Loop.Delay(TimeSpan.FromHours(1), cts.Token));
        Assert.Equal(1, loopThread.Invoke(() => loopThread.Loop.PendingTimers));
        cts.Cancel();

        OperationCanceledException error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => delay.DefaultTimeout());
        Assert.Equal(cts.Token, error.CancellationToken);
        Eventually.True(() => loopThread.Invoke(() => loopThread.Loop.PendingTimers) == 0);
    }

    [Fact]
    public async Task AnAlreadyCancelledToken_GivesACancelledTask_AndNoTimer()
    {
        using var loopThread = new LoopThread();

        Task delay = loopThread.Invoke(() => loopThread.Loop.Delay(TimeSpan.FromSeconds(1), new CancellationToken(canceled: true)));

        Assert.True(delay.IsCanceled);
        Assert.Equal(0, loopThread.Invoke(() => loopThread.Loop.PendingTimers));
    }

    [Fact]
    public async Task AnInfiniteDelay_EndsOnlyByCancellation()
    {
        using var loopThread = new LoopThread();
        using var cts = new CancellationTokenSource();

        Task delay = loopThread.Invoke(() => loopThread.Loop.Delay(Timeout.InfiniteTimeSpan, cts.Token));
        await Task.Delay(TestTimeouts.NothingHappens); // a window in which nothing may happen: the delay must not end
        Assert.False(delay.IsCompleted);
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => delay.DefaultTimeout());
    }

    [Fact]
    public async Task DisposingTheLoop_CancelsAPendingDelay_AndItsAwaiterResumes()
    {
        var loop = new EventLoop();
        var observed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        loop.Post(async () =>
        {
            try
            {
                await loop.Delay(TimeSpan.FromHours(1));
                observed.SetResult("completed");
            }
            catch (OperationCanceledException)
            {
                observed.SetResult(loop.IsOnLoopThread ? "cancelled on the loop thread" : "cancelled elsewhere");
            }
        });
        loop.RunOnce(TimeSpan.Zero);

        loop.Dispose();

        Assert.Equal("cancelled on the loop thread", await observed.Task.DefaultTimeout());
    }

    [Fact]
    public void FromAnotherThread_Throws_AndANegativeDelayIsRefused()
    {
        using var loopThread = new LoopThread();

        Assert.Throws<InvalidOperationException>(() => { _ = loopThread.Loop.Delay(TimeSpan.FromSeconds(1)); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = loopThread.Invoke(() => loopThread.Loop.Delay(TimeSpan.FromSeconds(-2))); });
    }
}
