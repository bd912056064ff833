using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Async;

/// <summary>EventLoop.InvokeAsync from any thread: result, exception, cancellation, a disposed loop.</summary>
public sealed class InvokeAsyncTests
{
    [Fact]
    public async Task ReturnsTheResult_ComputedOnTheLoopThread()
    {
        using var loopThread = new LoopThread();

        (int value, string? thread) = await loopThread.Loop.InvokeAsync(() => (6 * 7, Thread.CurrentThread.Name)).DefaultTimeout();

        Assert.Equal(42, value);
        Assert.Equal("loop-0", thread);
    }

    [Fact]
    public async Task AnActionRuns_AndTheTaskCompletes()
    {
        using var loopThread = new LoopThread();
        bool onLoop = false;

        await loopThread.Loop.InvokeAsync(() => { onLoop = loopThread.Loop.IsOnLoopThread; }).DefaultTimeout();

        Assert.True(onLoop);
    }

    [Fact]
    public async Task AnExceptionReachesTheCaller_AndTheLoopCarriesOn()
    {
        using var loopThread = new LoopThread();
        var failure = new InvalidOperationException("invoked and failed");

        Exception error = await Assert.ThrowsAsync<InvalidOperationException>(() => loopThread.Loop.InvokeAsync(new Func<int>(() => throw failure)).DefaultTimeout());

        Assert.Same(failure, error);
        Assert.Equal(1, await loopThread.Loop.InvokeAsync(() => 1).DefaultTimeout());
    }

    [Fact]
    public async Task AnAsyncFunction_AwaitsOnTheLoop_AndItsOutcomeIsTheTasks()
    {
        using var loopThread = new LoopThread();

        string?[] threads = await loopThread.Loop.InvokeAsync(async () =>
        {
            string? first = Thread.CurrentThread.Name;
            await Task.Run(() => { });
            string? second = Thread.CurrentThread.Name;
            await loopThread.Loop.Delay(TimeSpan.FromMilliseconds(1));
            return new[] { first, second, Thread.CurrentThread.Name };
        }).DefaultTimeout();
        Assert.All(threads, t => Assert.Equal("loop-0", t));

        await Assert.ThrowsAsync<TimeoutException>(() => loopThread.Loop.InvokeAsync(async () =>
        {
            await Task.Yield();
            throw new TimeoutException("inner");
        }).DefaultTimeout());

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => loopThread.Loop.InvokeAsync(async () =>
        {
            await Task.Yield();
            throw new OperationCanceledException("inner cancelled");
        }).DefaultTimeout());
    }

    [Fact]
    public async Task TheCallersContinuation_DoesNotRunOnTheLoopThread()
    {
        using var loopThread = new LoopThread();

        await loopThread.Loop.InvokeAsync(() => 1).DefaultTimeout();

        Assert.False(loopThread.Loop.IsOnLoopThread);
        Assert.NotEqual("loop-0", Thread.CurrentThread.Name);
    }

    [Fact]
    public async Task CancelledBeforeItRuns_NeverRuns_AndTheTaskIsCancelled()
    {
        using var loopThread = new LoopThread();
        using var cts = new CancellationTokenSource();
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        bool ran = false;

        loopThread.Loop.Post(() =>
        {
            entered.Set();
            release.Wait(TestTimeouts.Passing); // hold the loop so the invocation waits in the queue
        });
        Assert.True(entered.Wait(TestTimeouts.Passing));
        Task invoked = loopThread.Loop.InvokeAsync(() => { ran = true; }, cts.Token);
        cts.Cancel();
        release.Set();

        await Assert.ThrowsAsync<TaskCanceledException>(() => invoked.DefaultTimeout());
        await loopThread.Loop.InvokeAsync(() => { }).DefaultTimeout(); // the loop has passed the cancelled one
        Assert.False(ran);
        Assert.True(invoked.IsCanceled);

        Task already = loopThread.Loop.InvokeAsync(() => 1, cts.Token);
        Assert.True(already.IsCanceled);
    }

    [Fact]
    public async Task OnADisposedLoop_TheTaskIsCancelled()
    {
        var loop = new EventLoop();
        loop.Dispose();

        Task<int> task = loop.InvokeAsync(() => 1);

        await Assert.ThrowsAsync<TaskCanceledException>(() => task.DefaultTimeout());
    }

    [Fact]
    public async Task InvokedBeforeTheLoopRuns_RunsOnceItDoes_AndEveryInvocationAcceptedBeforeDisposeCompletes()
    {
        var loop = new EventLoop();
        Task<int> first = loop.InvokeAsync(() => 1);
        Task<int> second = loop.InvokeAsync(async () =>
        {
            await Task.Yield(); // posted again; Dispose runs it too
            return 2;
        });

        loop.Dispose();

        Assert.Equal(1, await first.DefaultTimeout());
        Assert.Equal(2, await second.DefaultTimeout());
    }
}
