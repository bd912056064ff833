using EventIO.Tests.Infrastructure;
using EventIO.Work;

namespace EventIO.Tests.Loop;

/// <summary>The worker pool: results come back on the loop thread; bounded queue; shutdown.</summary>
public sealed class WorkerPoolTests
{
    [Fact]
    public async Task Callback_RunsOnTheLoopThread_WithTheResult()
    {
        using var loopThread = new LoopThread();
        using var pool = new WorkerPool(workerCount: 2, queueCapacity: 8);
        var result = new TaskCompletionSource<(int Value, bool OnLoop, string? Worker, string? CallbackThread)>(TaskCreationOptions.RunContinuationsAsynchronously);
        string? workerName = null;

        Assert.True(loopThread.Invoke(() => pool.TryRun(
            () =>
            {
                workerName = Thread.CurrentThread.Name;
                return 6 * 7;
            },
            r => result.SetResult((r.Value, loopThread.Loop.IsOnLoopThread, workerName, Thread.CurrentThread.Name)))));

        (int value, bool onLoop, string? worker, string? callbackThread) = await result.Task.DefaultTimeout();
        Assert.Equal(42, value);
        Assert.True(onLoop);
        Assert.Equal("loop-0", callbackThread);
        Assert.StartsWith("eventio-worker-", worker, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TryRunWithState_PassesTheStateToWorkAndCallback()
    {
        using var loopThread = new LoopThread();
        using var pool = new WorkerPool(workerCount: 1, queueCapacity: 4);
        var done = new TaskCompletionSource<(string State, WorkResult<int> Result)>(TaskCreationOptions.RunContinuationsAsynchronously);

        Assert.True(loopThread.Invoke(() => pool.TryRun("hello", static s => s.Length, (s, r) => done.SetResult((s, r)))));

        (string state, WorkResult<int> result) = await done.Task.DefaultTimeout();
        Assert.Equal("hello", state);
        Assert.True(result.IsSuccess);
        Assert.Equal(5, result.Value);
        Assert.Null(result.Exception);
    }

    [Fact]
    public async Task WorkThatThrows_DeliversTheExceptionToTheCallback()
    {
        using var loopThread = new LoopThread();
        using var pool = new WorkerPool(workerCount: 1, queueCapacity: 4);
        var failure = new InvalidOperationException("work failed");
        var done = new TaskCompletionSource<(WorkResult<int> Result, bool OnLoop)>(TaskCreationOptions.RunContinuationsAsynchronously);

        Assert.True(loopThread.Invoke(() => pool.TryRun<int>(() => throw failure, r => done.SetResult((r, loopThread.Loop.IsOnLoopThread)))));

        (WorkResult<int> result, bool onLoop) = await done.Task.DefaultTimeout();
        Assert.False(result.IsSuccess);
        Assert.Same(failure, result.Exception);
        Assert.Equal(0, result.Value);
        Assert.True(onLoop);

        // The worker survived the failure.
        var next = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.True(loopThread.Invoke(() => pool.TryRun(() => 1, r => next.SetResult(r.Value))));
        Assert.Equal(1, await next.Task.DefaultTimeout());
    }

    [Fact]
    public void FullQueue_TryRunReturnsFalseAtOnce_AndEveryAcceptedItemCompletes()
    {
        using var loopThread = new LoopThread();
        using var release = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        using var pool = new WorkerPool(workerCount: 1, queueCapacity: 2);
        int executed = 0;
        int completed = 0;
        var results = new List<int>();
        try
        {
            Assert.True(loopThread.Invoke(() => pool.TryRun(
                () =>
                {
                    started.Set();
                    Assert.True(release.Wait(TestTimeouts.Passing));
                    Interlocked.Increment(ref executed);
                    return 0;
                },
                r => Complete(r.Value))));
            Assert.True(started.Wait(TestTimeouts.Passing)); // the only worker is busy
            Assert.True(loopThread.Invoke(() => pool.TryRun(() => Run(1), r => Complete(r.Value))));
            Assert.True(loopThread.Invoke(() => pool.TryRun(() => Run(2), r => Complete(r.Value))));
            Assert.Equal(2, pool.QueuedCount);
            Assert.Equal(1, pool.RunningCount);

            Assert.False(loopThread.Invoke(() => pool.TryRun(() => Run(3), r => Complete(r.Value))));
            Assert.False(loopThread.Invoke(() => pool.TryRun(() => Run(4), r => Complete(r.Value))));
            Assert.Equal(2, pool.QueuedCount);
        }
        finally
        {
            release.Set();
        }

        Eventually.True(() => Volatile.Read(ref completed) == 3);
        Assert.Equal(3, Volatile.Read(ref executed));
        Assert.Equal([0, 1, 2], loopThread.Invoke(() => results.ToArray()));

        // The refused items never ran, and the queue has room again.
        Assert.True(loopThread.Invoke(() => pool.TryRun(() => Run(5), r => Complete(r.Value))));
        Eventually.True(() => Volatile.Read(ref completed) == 4);
        Assert.Equal(4, Volatile.Read(ref executed));

        int Run(int value)
        {
            Interlocked.Increment(ref executed);
            return value;
        }

        void Complete(int value)
        {
            results.Add(value); // loop thread
            Interlocked.Increment(ref completed);
        }
    }

    [Fact]
    public async Task Shutdown_CancelsQueuedWork_AndReturnsTrueOnceRunningWorkFinishes()
    {
        using var loopThread = new LoopThread();
        using var release = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        using var pool = new WorkerPool(workerCount: 1, queueCapacity: 8);
        var running = new TaskCompletionSource<WorkResult<int>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var queued1 = new TaskCompletionSource<WorkResult<int>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var queued2 = new TaskCompletionSource<WorkResult<int>>(TaskCreationOptions.RunContinuationsAsynchronously);
        int queuedExecuted = 0;
        Task<bool> shutdown;
        try
        {
            Assert.True(loopThread.Invoke(() => pool.TryRun(
                () =>
                {
                    started.Set();
                    Assert.True(release.Wait(TestTimeouts.Passing));
                    return 7;
                },
                running.SetResult)));
            Assert.True(started.Wait(TestTimeouts.Passing));
            Assert.True(loopThread.Invoke(() => pool.TryRun(() => Interlocked.Increment(ref queuedExecuted), queued1.SetResult)));
            Assert.True(loopThread.Invoke(() => pool.TryRun(() => Interlocked.Increment(ref queuedExecuted), queued2.SetResult)));

            shutdown = Task.Run(() => pool.Shutdown(TestTimeouts.Passing));

            // Shutdown has taken the queued items; it is now waiting for the running one.
            Eventually.True(() => pool.QueuedCount == 0);
            Assert.False(shutdown.IsCompleted);
            Assert.False(loopThread.Invoke(() => pool.TryRun(() => 0, _ => { })));
        }
        finally
        {
            release.Set();
        }

        Assert.True(await shutdown.DefaultTimeout());
        Assert.Equal(7, (await running.Task.DefaultTimeout()).Value);
        WorkResult<int> r1 = await queued1.Task.DefaultTimeout();
        WorkResult<int> r2 = await queued2.Task.DefaultTimeout();
        Assert.IsType<OperationCanceledException>(r1.Exception);
        Assert.IsType<OperationCanceledException>(r2.Exception);
        Assert.False(r1.IsSuccess);
        Assert.Equal(0, Volatile.Read(ref queuedExecuted));
        Assert.Equal(0, pool.RunningCount);
        Assert.True(pool.Shutdown(TimeSpan.Zero)); // idempotent: the workers are gone
    }

    [Fact]
    public void Workers_AreNamedEventioWorkerN()
    {
        const int Workers = 3;
        using var loopThread = new LoopThread();
        using var pool = new WorkerPool(workerCount: Workers, queueCapacity: 8);
        using var allStarted = new CountdownEvent(Workers);
        var names = new string?[Workers];
        int done = 0;
        Assert.Equal(Workers, pool.WorkerCount);

        for (int i = 0; i < Workers; i++)
        {
            int index = i;
            Assert.True(loopThread.Invoke(() => pool.TryRun(
                () =>
                {
                    names[index] = Thread.CurrentThread.Name;
                    Assert.True(Thread.CurrentThread.IsBackground);
                    allStarted.Signal();
                    return allStarted.Wait(TestTimeouts.Passing); // holds each worker until all three run at once
                },
                r =>
                {
                    Assert.True(r.Value);
                    Interlocked.Increment(ref done);
                })));
        }

        Eventually.True(() => Volatile.Read(ref done) == Workers);
        Assert.Equal(["eventio-worker-0", "eventio-worker-1", "eventio-worker-2"], names.Order());
    }

    [Fact]
    public void TryRun_OffALoopThread_Throws_AndRunsNothing()
    {
        using var pool = new WorkerPool(workerCount: 1, queueCapacity: 4);
        int ran = 0;

        var error = Assert.Throws<InvalidOperationException>(() => pool.TryRun(() => Interlocked.Increment(ref ran), _ => { }));

        Assert.Contains("loop thread", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, pool.QueuedCount);
        Assert.True(pool.Shutdown(TestTimeouts.Passing));
        Assert.Equal(0, Volatile.Read(ref ran));
    }

    [Fact]
    public async Task Shutdown_InfiniteTimeout_WaitsForRunningWork_NegativeIsRefused()
    {
        using var loopThread = new LoopThread();
        using var pool = new WorkerPool(workerCount: 1, queueCapacity: 4);
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        Assert.True(loopThread.Invoke(() => pool.TryRun(
            () =>
            {
                started.Set();
                return release.Wait(TestTimeouts.Passing);
            },
            _ => { })));
        Assert.True(started.Wait(TestTimeouts.Passing));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Shutdown(TimeSpan.FromMilliseconds(-2)));

        // Infinite means "as long as it takes", not "don't wait" (it used to return at once).
        Task<bool> shutdown = Task.Run(() => pool.Shutdown(Timeout.InfiniteTimeSpan));
        Assert.NotSame(shutdown, await Task.WhenAny(shutdown, Task.Delay(TestTimeouts.NothingHappens)));
        release.Set();
        Assert.True(await shutdown.DefaultTimeout());
    }

    [Fact]
    public void Constructor_RejectsBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(workerCount: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(workerCount: 1025));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(priority: (WorkerPriority)42));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(workerCount: 1, queueCapacity: 0));
    }

    [Theory]
    [InlineData(WorkerPriority.Normal, 0, 0)]
    [InlineData(WorkerPriority.Low, WorkerPool.LowPriorityNice, 0)]
    [InlineData(WorkerPriority.Idle, 0, 5)] // SCHED_IDLE
    public async Task Workers_RunAtTheirPriority_TheLoopIsLeftAlone(WorkerPriority priority, int expectedNice, int expectedPolicy)
    {
        using var loopThread = new LoopThread();
        using var pool = new WorkerPool(workerCount: 1, queueCapacity: 1, priority);
        var done = new TaskCompletionSource<WorkResult<(int Nice, int Policy)>>(TaskCreationOptions.RunContinuationsAsynchronously);

        Assert.True(loopThread.Invoke(() => pool.TryRun(ReadOwnScheduling, r => done.SetResult(r))));

        WorkResult<(int Nice, int Policy)> result = await done.Task.DefaultTimeout();
        Assert.True(result.IsSuccess, result.Exception?.ToString());
        Assert.Equal((expectedNice, expectedPolicy), result.Value);
        Assert.Equal((0, 0), loopThread.Invoke(ReadOwnScheduling));
    }

    [Fact]
    public async Task Shutdown_ReturnsWaitingIdleWorkersToTheNormalPolicy_RunningWorkKeepsItsPriority()
    {
        using var loopThread = new LoopThread();
        using var pool = new WorkerPool(workerCount: 3, queueCapacity: 1, WorkerPriority.Idle);
        using var gate = new ManualResetEventSlim();
        var done = new TaskCompletionSource<WorkResult<(int Nice, int Policy)>>(TaskCreationOptions.RunContinuationsAsynchronously);

        // Every worker has started under SCHED_IDLE; then one is held in an item.
        Eventually.True(() => pool.IdlePolicyWorkers == 3);
        Assert.True(loopThread.Invoke(() => pool.TryRun(
            () =>
            {
                gate.Wait(TestTimeouts.Passing);
                return ReadOwnScheduling();
            },
            r => done.SetResult(r))));
        Eventually.True(() => pool.RunningCount == 1);
        pool.Shutdown(TimeSpan.Zero);
        gate.Set();

        WorkResult<(int Nice, int Policy)> result = await done.Task.DefaultTimeout();
        Assert.True(result.IsSuccess, result.Exception?.ToString());
        Assert.Equal((0, 5), result.Value); // the running item kept SCHED_IDLE

        // Leaving SCHED_IDLE needs CAP_SYS_NICE (or RLIMIT_NICE); without it nothing is returned.
        Assert.Equal(Environment.IsPrivilegedProcess ? 2 : 0, pool.WorkersReturnedToNormalPolicy);
    }

    // /proc/thread-self/stat: field 19 is the calling thread's nice value, field 41 its policy.
    private static (int Nice, int Policy) ReadOwnScheduling()
    {
        string stat = File.ReadAllText("/proc/thread-self/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (int.Parse(fields[19 - 3], System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(fields[41 - 3], System.Globalization.CultureInfo.InvariantCulture));
    }
}
