using EventIO.Tests.Infrastructure;
using EventIO.Work;

namespace EventIO.Tests.Async;

/// <summary>WorkerPool.RunAsync: the recipe's ThreadPoolHandler as one await.</summary>
public sealed class WorkerPoolRunAsyncTests
{
    [Fact]
    public async Task TheResult_ComesBackOnTheLoopThread_TheWorkRanOnAWorker()
    {
        using var loopThread = new LoopThread();
        using var pool = new WorkerPool(workerCount: 2, queueCapacity: 8);

        (long value, string? worker, string? after) = await loopThread.Loop.InvokeAsync(async () =>
        {
            string? worker = null;
            long value = await pool.RunAsync(() =>
            {
                worker = Thread.CurrentThread.Name;
                return Fib(20);
            });
            return (value, worker, Thread.CurrentThread.Name);
        }).DefaultTimeout();

        Assert.Equal(10946, value);
        Assert.StartsWith("eventio-worker-", worker, StringComparison.Ordinal);
        Assert.Equal("loop-0", after);
    }

    [Fact]
    public async Task TheWorksException_IsThrownByTheAwait_OnTheLoopThread()
    {
        using var loopThread = new LoopThread();
        using var pool = new WorkerPool(workerCount: 1, queueCapacity: 4);
        var failure = new FormatException("bad work");

        (Exception? error, bool onLoop) = await loopThread.Loop.InvokeAsync(async () =>
        {
            try
            {
                await pool.RunAsync<int>(() => throw failure);
                return ((Exception?)null, false);
            }
            catch (FormatException ex)
            {
                return (ex, loopThread.Loop.IsOnLoopThread);
            }
        }).DefaultTimeout();

        Assert.Same(failure, error);
        Assert.True(onLoop);
    }

    [Fact]
    public async Task CancelledWhileQueued_NeverRuns_AndTheAwaitIsCancelled()
    {
        using var loopThread = new LoopThread();
        using var pool = new WorkerPool(workerCount: 1, queueCapacity: 4);
        using var gate = new ManualResetEventSlim();
        using var cts = new CancellationTokenSource();
        bool ran = false;
        try
        {
            Task<int> blocker = loopThread.Invoke(() => pool.RunAsync(() => gate.Wait(TestTimeouts.Passing) ? 1 : 0));
            Eventually.True(() => pool.RunningCount == 1);
            Task<int> queued = loopThread.Invoke(() => pool.RunAsync(() =>
            {
                ran = true;
                return 2;
            }, cts.Token));

            cts.Cancel();
            OperationCanceledException error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued.DefaultTimeout());
            Assert.Equal(cts.Token, error.CancellationToken);
            gate.Set();
            Assert.Equal(1, await blocker.DefaultTimeout());
            Eventually.True(() => pool.QueuedCount == 0 && pool.RunningCount == 0);
            Assert.False(ran);
        }
        finally
        {
            gate.Set();
        }
    }

    [Fact]
    public async Task AFullQueue_FaultsAtOnceWithWorkerPoolFull_AndAShutDownPoolCancels()
    {
        using var loopThread = new LoopThread();
        using var pool = new WorkerPool(workerCount: 1, queueCapacity: 1);
        using var gate = new ManualResetEventSlim();
        try
        {
            Task<bool> running = loopThread.Invoke(() => pool.RunAsync(() => gate.Wait(TestTimeouts.Passing)));
            Eventually.True(() => pool.RunningCount == 1);
            Task<bool> queued = loopThread.Invoke(() => pool.RunAsync(() => true));
            Task<bool> refused = loopThread.Invoke(() => pool.RunAsync(() => true));

            Assert.True(refused.IsFaulted);
            Assert.IsType<WorkerPoolFullException>(refused.Exception!.InnerException);

            pool.Shutdown(TimeSpan.Zero); // the queued one is cancelled; the running one finishes
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued.DefaultTimeout());
            gate.Set();
            Assert.True(await running.DefaultTimeout());
            Task<bool> afterShutdown = loopThread.Invoke(() => pool.RunAsync(() => true));
            Assert.True(afterShutdown.IsCanceled);
        }
        finally
        {
            gate.Set();
        }
    }

    [Fact]
    public async Task DisposingTheLoop_WhileTheWorkRuns_CancelsTheAwait()
    {
        using var pool = new WorkerPool(workerCount: 1, queueCapacity: 4);
        using var gate = new ManualResetEventSlim();
        var loop = new EventLoop();
        var observed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            loop.Post(async () =>
            {
                try
                {
                    await pool.RunAsync(() => gate.Wait(TestTimeouts.Passing));
                    observed.SetResult("completed");
                }
                catch (OperationCanceledException)
                {
                    observed.SetResult("cancelled");
                }
            });
            loop.RunOnce(TimeSpan.Zero);
            Eventually.True(() => pool.RunningCount == 1);

            loop.Dispose();

            Assert.Equal("cancelled", await observed.Task.DefaultTimeout());
        }
        finally
        {
            gate.Set(); // its result goes to a loop that is gone: dropped
        }
    }

    [Fact]
    public void OffALoopThread_Throws()
    {
        using var pool = new WorkerPool(workerCount: 1, queueCapacity: 1);

        var error = Assert.Throws<InvalidOperationException>(() => { _ = pool.RunAsync(() => 1); });
        Assert.Contains("loop thread", error.Message, StringComparison.Ordinal);
    }

    private static long Fib(int n) => n < 2 ? 1 : Fib(n - 1) + Fib(n - 2);
}
