using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EventIO.Net;
using EventIO.Polling;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Loop;
using EventIO.Tests.Servers;
using EventIO.Timers;
using EventIO.Work;

namespace EventIO.Tests.Regressions;

/// <summary>
/// One test per confirmed bug (mio's <c>tests/regressions.rs</c>), named after the issue that reported it.
/// Each one failed before its fix.
/// </summary>
public sealed class RegressionTests
{
    // Bug 1: cancelling from another thread edited the timer heap whenever no thread was inside Run/RunOnce.
    [Fact]
    public void Issue15_TimerCancelFromAnotherThread_WhileTheHostIsBetweenTurns_LeavesTheHeapToTheLoop()
    {
        using var loop = new EventLoop();
        int fired = 0;
        TimerHandle timer = loop.CallLater(TimeSpan.FromMilliseconds(1), () => fired++);
        Assert.Equal(1, loop.PendingTimers);

        var other = new Thread(timer.Cancel); // a thread of its own: a pooled one could be this very thread
        other.Start();
        Assert.True(other.Join(TestTimeouts.Passing));

        Assert.False(timer.IsActive);
        Assert.Equal(1, loop.PendingTimers); // the other thread only marked it; the heap is the loop's alone
        Thread.Sleep(5); // let it come due (what is asserted is that it does not fire)
        loop.RunOnce(TimeSpan.Zero);
        loop.RunOnce(TimeSpan.Zero);
        Assert.Equal(0, fired);
        Assert.Equal(0, loop.PendingTimers);
    }

    // Bug 1, as it was found: a host scheduling between turns while workers cancel lost and double-fired timers.
    [Fact]
    public async Task Issue15_TimerCancelsRacingWithScheduling_NeverLoseOrDoubleFireATimer()
    {
        const int Timers = 20_000;
        using var loop = new EventLoop();
        var handles = new TimerHandle[Timers];
        var fired = new int[Timers];
        using var ready = new CountdownEvent(1);
        Task canceller = Task.Factory.StartNew(() => // a thread of its own, never this one
        {
            ready.Wait(TestTimeouts.Passing);
            for (int i = 0; i < Timers; i += 2)
            {
                SpinWait.SpinUntil(() => Volatile.Read(ref handles[i]) is not null);
                handles[i].Cancel(); // even ones: cancelled from this thread while the host schedules more
            }
        }, TaskCreationOptions.LongRunning);

        ready.Signal();
        for (int i = 0; i < Timers; i++)
        {
            int index = i;
            Volatile.Write(ref handles[i], loop.CallLater(TimeSpan.Zero, () => fired[index]++));
        }

        await canceller.DefaultTimeout();
        LoopDriver.RunUntil(loop, () => loop.PendingTimers == 0);
        for (int i = 0; i < Timers; i++)
        {
            Assert.True(fired[i] == (i % 2 == 0 ? 0 : 1), $"timer {i} fired {fired[i]} times");
        }
    }

    // Bug 2: after CloseWhenFlushed, OnReceived and OnPeerClosed kept coming while the connection lingered.
    [Fact]
    public void Issue15_CloseWhenFlushedInsideOnReceived_NoMoreOnReceivedOrOnPeerClosed()
    {
        using var loopThread = new LoopThread();
        var connections = new List<ClosingOnFirstData>();
        TcpServer server = ServerTestSupport.Start(loopThread, _ => new TcpServer(Loopback.AnyPort, s =>
        {
            var c = new ClosingOnFirstData(s);
            connections.Add(c);
            return c;
        }));
        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);

        client.Send(new byte[200 * 1024]); // several reads' worth, all there at once
        client.Shutdown(SocketShutdown.Send);
        ServerTestSupport.AssertEndOfStream(client);

        Eventually.True(() => loopThread.Invoke(() => connections.Count == 1 && connections[0].IsClosed));
        ClosingOnFirstData connection = loopThread.Invoke(() => connections[0]);
        Assert.Equal(1, loopThread.Invoke(() => connection.Received));
        Assert.Equal(0, loopThread.Invoke(() => connection.PeerClosedCalls));
        Assert.Equal(TcpCloseReason.Completed, loopThread.Invoke(() => connection.CloseReason));
    }

    // Bug 3: serve printed its listening lines before registering its signal handlers; a SIGTERM sent right
    // after them killed the process (exit 143) instead of shutting it down. Signalled at the first line.
    [Fact]
    public void Issue15_SigtermRightAfterTheListeningLines_ShutsDownGracefully()
    {
        for (int run = 0; run < 6; run++)
        {
            using CliProcess serve = CliProcess.Start(["serve", "--time-port", "0", "--echo-port", "0", "--tcp-echo-port", "0", "--fib-port", "0"]);
            Assert.StartsWith("listening ", serve.ReadLine(), StringComparison.Ordinal);
            serve.SignalTermNow();
            serve.WaitForExit(TestTimeouts.Passing);
            Assert.True(serve.ExitCode == 0, $"run {run}: exit code {serve.ExitCode}; stderr: {serve.StandardError}");
        }
    }

    // Bug 4: Stop stuck: every later RunOnce returned at once (1.4 million times a second with nothing to do).
    [Theory]
    [MemberData(nameof(Backends))]
    public void Issue15_StopIsConsumed_LaterRunOnceWaitsAgain(PollerBackend backend)
    {
        using var loop = new EventLoop(new EventLoopOptions { Backend = backend });
        loop.Stop();
        Assert.Equal(0, loop.RunOnce(TestTimeouts.Passing)); // the pending stop: no wait

        TimeSpan wait = TimeSpan.FromMilliseconds(50);
        var watch = Stopwatch.StartNew();
        Assert.Equal(0, loop.RunOnce(wait));
        Assert.True(watch.Elapsed >= wait, $"RunOnce returned after {watch.Elapsed.TotalMilliseconds:F1} ms: the stop stuck");
    }

    // Bug 5: Dispose on the loop thread inside Run was allowed; Run then hung (poll, select) or threw EBADF (epoll).
    [Theory]
    [MemberData(nameof(Backends))]
    public async Task Issue15_DisposeFromInsideRun_IsRefused_AndTheLoopStillStops(PollerBackend backend)
    {
        var loopThread = new LoopThread(backend);
        var refused = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        loopThread.Loop.Post(() =>
        {
            try
            {
                loopThread.Loop.Dispose();
                refused.SetResult(null);
            }
            catch (InvalidOperationException ex)
            {
                refused.SetResult(ex);
            }
        });

        Assert.IsType<InvalidOperationException>(await refused.Task.DefaultTimeout());
        Assert.Equal(7, loopThread.Invoke(() => 7)); // still serving
        loopThread.Dispose(); // Stop, join (with a deadline), then Dispose from this thread
    }

    // Bug 6: the accept-retry timer after EMFILE outlived StopListening/Dispose and reopened the spare
    // descriptor of a closed server (a descriptor leak).
    [Fact]
    public void Issue15_StopListeningDuringAnAcceptPause_CancelsTheRetry_AndHoldsNoDescriptor()
    {
        using var loopThread = new LoopThread();
        TcpServer server = ServerTestSupport.Start(loopThread, _ => new TcpServer(
            Loopback.AnyPort, TcpEchoConnection.Create, new TcpServerOptions { AcceptRetryDelay = TestTimeouts.NothingHappens }));
        int timersBefore = loopThread.Invoke(() => loopThread.Loop.PendingTimers);

        loopThread.Invoke(() => server.PauseAccepting(SocketError.TooManyOpenSockets));
        Assert.Equal(timersBefore + 1, loopThread.Invoke(() => loopThread.Loop.PendingTimers));
        loopThread.Invoke(server.StopListening);

        Assert.Equal(timersBefore, loopThread.Invoke(() => loopThread.Loop.PendingTimers)); // the retry is cancelled
        Thread.Sleep(TestTimeouts.NothingHappens * 1.5); // past the retry delay: it must not run (what is asserted is that nothing happens)
        loopThread.Invoke(() => { });
        Assert.False(loopThread.Invoke(() => server.HoldsSpareDescriptor));
        Assert.False(loopThread.Invoke(() => server.IsListening));
    }

    // Bug 7: Timeout.InfiniteTimeSpan meant "don't wait" in RunOnce (and in WorkerPool.Shutdown).
    [Fact]
    public async Task Issue15_RunOnceWithInfiniteTimeout_WaitsUntilSomethingHappens()
    {
        using var loop = new EventLoop();
        int ran = 0;
        Task<int> turn = Task.Run(() => loop.RunOnce(Timeout.InfiniteTimeSpan));
        Assert.NotSame(turn, await Task.WhenAny(turn, Task.Delay(TestTimeouts.NothingHappens)));

        Assert.True(loop.Post(() => ran++));
        Assert.Equal(1, await turn.DefaultTimeout());
        Assert.Equal(1, ran);
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.RunOnce(TimeSpan.FromMilliseconds(-5)));
    }

    [Fact]
    public async Task Issue15_WorkerPoolShutdownWithInfiniteTimeout_WaitsForRunningWork()
    {
        using var loopThread = new LoopThread();
        using var pool = new WorkerPool(workerCount: 1, queueCapacity: 1);
        using var release = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        Assert.True(loopThread.Invoke(() => pool.TryRun(() => { started.Set(); return release.Wait(TestTimeouts.Passing); }, _ => { })));
        Assert.True(started.Wait(TestTimeouts.Passing));

        Task<bool> shutdown = Task.Run(() => pool.Shutdown(Timeout.InfiniteTimeSpan));
        Assert.NotSame(shutdown, await Task.WhenAny(shutdown, Task.Delay(TestTimeouts.NothingHappens)));
        release.Set();
        Assert.True(await shutdown.DefaultTimeout());
    }

    // Also reported: Post could return true for an action that Dispose then dropped silently.
    [Fact]
    public void Issue15_APostThatReturnedTrue_RunsAtDispose_AndAPostAfterIsRefused()
    {
        var loop = new EventLoop();
        int ran = 0;
        Assert.True(loop.Post(() => ran++));

        loop.Dispose();

        Assert.Equal(1, ran);
        Assert.False(loop.Post(() => ran++));
        Assert.Equal(1, ran);
    }

    [Fact]
    public async Task Issue15_EveryPostThatReturnedTrue_RunsEvenWhenDisposeRacesWithIt()
    {
        for (int round = 0; round < 20; round++)
        {
            var loop = new EventLoop();
            int accepted = 0, ran = 0;
            using var go = new ManualResetEventSlim();
            Task[] posters = [.. Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            {
                go.Wait(TestTimeouts.Passing);
                for (int i = 0; i < 2_000; i++)
                {
                    if (loop.Post(() => Interlocked.Increment(ref ran)))
                    {
                        Interlocked.Increment(ref accepted);
                    }
                }
            }))];

            go.Set();
            loop.Dispose();
            await Task.WhenAll(posters).DefaultTimeout();
            Assert.Equal(Volatile.Read(ref accepted), Volatile.Read(ref ran));
            Assert.False(loop.Post(() => { }));
        }
    }

    // Also reported: calling TcpServer.Shutdown twice lost the first callback.
    [Fact]
    public async Task Issue15_ShutdownTwice_RunsBothCallbacks()
    {
        using var loopThread = new LoopThread();
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread);
        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);
        client.Send("x"u8);
        Assert.Equal("x"u8.ToArray(), Loopback.ReceiveExactly(client, 1));
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        loopThread.Invoke(() => server.Shutdown(first.SetResult));
        loopThread.Invoke(() => server.Shutdown(second.SetResult));
        client.Shutdown(SocketShutdown.Send);

        await first.Task.DefaultTimeout();
        await second.Task.DefaultTimeout();
    }

    public static TheoryData<PollerBackend> Backends => new() { PollerBackend.Epoll, PollerBackend.Poll, PollerBackend.Select };

    private sealed class ClosingOnFirstData(SafeSocketHandle socket) : TcpConnection(socket)
    {
        public int Received { get; private set; }

        public int PeerClosedCalls { get; private set; }

        protected override void OnReceived(ReadOnlySpan<byte> data)
        {
            Received++;
            CloseWhenFlushed();
        }

        protected override void OnPeerClosed()
        {
            PeerClosedCalls++;
            base.OnPeerClosed();
        }
    }
}
