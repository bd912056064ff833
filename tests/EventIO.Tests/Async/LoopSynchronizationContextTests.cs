using EventIO.Tests.Infrastructure;
using EventIO.Tests.Loop;
using Microsoft.Extensions.Logging;

namespace EventIO.Tests.Async;

/// <summary>The loop's SynchronizationContext and TaskScheduler: an await on the loop resumes on the loop.</summary>
public sealed class LoopSynchronizationContextTests
{
    [Fact]
    public void InsideRun_TheLoopsContextIsCurrent_AndOutsideItIsNot()
    {
        using var loopThread = new LoopThread();
        EventLoop loop = loopThread.Loop;

        Assert.Same(loop.SynchronizationContext, loopThread.Invoke(() => SynchronizationContext.Current));
        Assert.NotSame(loop.SynchronizationContext, SynchronizationContext.Current);
        Assert.Same(loop.SynchronizationContext, loop.SynchronizationContext); // one per loop
    }

    [Fact]
    public void RunOnce_InstallsTheContext_AndRestoresTheCallersAfterwards()
    {
        using var loop = new EventLoop();
        SynchronizationContext? seen = null;
        var outer = new SynchronizationContext();
        SynchronizationContext? before = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(outer);
        try
        {
            loop.Post(() => seen = SynchronizationContext.Current);
            loop.RunOnce(TimeSpan.Zero);
            Assert.Same(loop.SynchronizationContext, seen);
            Assert.Same(outer, SynchronizationContext.Current);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(before);
        }
    }

    [Fact]
    public async Task AnAwaitOfAnotherThreadsTask_InAPostedAction_ResumesOnTheLoopThread()
    {
        using var loopThread = new LoopThread();
        var threads = new TaskCompletionSource<(bool Before, bool After, bool CompletedOffLoop)>(TaskCreationOptions.RunContinuationsAsynchronously);

        loopThread.Loop.Post(async () =>
        {
            bool before = loopThread.Loop.IsOnLoopThread;
            bool offLoop = await Task.Run(() => !loopThread.Loop.IsOnLoopThread); // completes on the thread pool
            await Task.Yield();
            threads.SetResult((before, loopThread.Loop.IsOnLoopThread, offLoop));
        });

        (bool before, bool after, bool completedOffLoop) = await threads.Task.DefaultTimeout();
        Assert.True(before);
        Assert.True(completedOffLoop);
        Assert.True(after);
    }

    [Fact]
    public async Task AnAwaitInATimerCallback_ResumesOnTheLoopThread()
    {
        using var loopThread = new LoopThread();
        var result = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);

        loopThread.Invoke(() => loopThread.Loop.CallLater(TimeSpan.Zero, async () =>
        {
            await Task.Delay(1); // a .NET timer: completes on the thread pool
            result.SetResult(Thread.CurrentThread.Name);
        }));

        Assert.Equal("loop-0", await result.Task.DefaultTimeout());
    }

    [Fact]
    public async Task AnAsyncVoidThatThrows_IsLoggedByTheLoop_WhichCarriesOn()
    {
        var logger = new CollectingLogger();
        using var loopThread = new LoopThread(new EventLoopOptions { Logger = logger });

        loopThread.Loop.Post(async () =>
        {
            await Task.Yield();
            throw new InvalidOperationException("async void failed");
        });

        Eventually.True(() => logger.Entries.Any(e => e.Level == LogLevel.Error && e.Exception is InvalidOperationException { Message: "async void failed" }));
        Assert.Equal(7, await loopThread.Loop.InvokeAsync(() => 7).DefaultTimeout());
    }

    [Fact]
    public async Task Send_FromAnotherThread_RunsOnTheLoopAndWaits_OnTheLoopRunsInline()
    {
        using var loopThread = new LoopThread();
        SynchronizationContext context = loopThread.Loop.SynchronizationContext;
        string? ranOn = null;

        context.Send(_ => ranOn = Thread.CurrentThread.Name, null);
        Assert.Equal("loop-0", ranOn);

        bool inline = await loopThread.Loop.InvokeAsync(() =>
        {
            bool ran = false;
            context.Send(_ => ran = true, null);
            return ran; // Send on the loop thread ran it before returning
        }).DefaultTimeout();
        Assert.True(inline);
    }

    [Fact]
    public async Task TaskScheduler_RunsTasksOnTheLoopThread_OneAtATime()
    {
        using var loopThread = new LoopThread();
        int running = 0, overlaps = 0;
        Task<string?>[] tasks = [.. Enumerable.Range(0, 20).Select(_ => Task.Factory.StartNew(
            () =>
            {
                overlaps += Interlocked.Increment(ref running) > 1 ? 1 : 0;
                string? name = Thread.CurrentThread.Name;
                Interlocked.Decrement(ref running);
                return name;
            },
            CancellationToken.None,
            TaskCreationOptions.None,
            loopThread.Loop.TaskScheduler))];

        string?[] names = await Task.WhenAll(tasks).DefaultTimeout();
        Assert.All(names, n => Assert.Equal("loop-0", n));
        Assert.Equal(0, overlaps);
        Assert.Equal(1, loopThread.Loop.TaskScheduler.MaximumConcurrencyLevel);
    }

    [Fact]
    public async Task DisposingTheLoop_UnderAnEndlessAwaitLoop_Returns_AndTheLoopCarriesOnOnTheThreadPool()
    {
        var loop = new EventLoop();
        using var stop = new CancellationTokenSource();
        var movedOff = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        loop.Post(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Yield(); // posted to the loop each time: during Dispose, to its last rounds
                if (!loop.IsOnLoopThread)
                {
                    movedOff.TrySetResult(Thread.CurrentThread.IsThreadPoolThread);
                }
            }
        });
        loop.RunOnce(TimeSpan.Zero);

        loop.Dispose(); // neither recurses nor hangs

        Assert.True(await movedOff.Task.DefaultTimeout());
        await stop.CancelAsync();
    }

    [Fact]
    public async Task AfterTheLoopIsDisposed_APostToItsContextStillRuns_OnTheThreadPool()
    {
        var loop = new EventLoop();
        SynchronizationContext context = loop.SynchronizationContext;
        loop.Dispose();
        var ran = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        context.Post(_ => ran.SetResult(Thread.CurrentThread.IsThreadPoolThread), null);

        Assert.True(await ran.Task.DefaultTimeout());
    }
}
