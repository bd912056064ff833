using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using EventIO.Polling;
using EventIO.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace EventIO.Tests.Loop;

/// <summary>
/// The loop's contract, run once per backend by the sealed subclasses. Real loopback sockets, real
/// readiness; the loop is driven with <see cref="EventLoop.RunOnce"/> on the test thread unless the
/// test is about threads.
/// </summary>
public abstract class EventLoopContract
{
    protected EventLoopContract(PollerBackend backend, string name)
    {
        Backend = backend;
        BackendName = name;
    }

    protected PollerBackend Backend { get; }

    protected string BackendName { get; }

    [Fact]
    public void Backend_IsTheOneRequested()
    {
        using EventLoop loop = NewLoop();
        Assert.Equal(BackendName, loop.Backend);
    }

    [Fact]
    public void ReadableHandler_GetsReceive_AndNotSend()
    {
        using EventLoop loop = NewLoop();
        using var pair = SocketPair.Create();
        using var handler = new RecordingHandler(pair.Local) { WantsToReceive = true };
        loop.Add(handler);

        Assert.Equal(0, loop.RunOnce(TimeSpan.Zero)); // nothing to read yet (the socket is writable, but not wanted)
        Assert.Equal(0, handler.ReceiveCount);

        pair.SendToLocal("hello"u8);
        LoopDriver.RunUntil(loop, () => handler.BytesReceived == 5);

        Assert.Equal(0, handler.SendCount);
        Assert.Equal(0, loop.RunOnce(LoopDriver.Short)); // drained: level-triggered, but nothing left
        Assert.Equal(0, handler.SendCount);
    }

    [Fact]
    public void WantsToSend_GetsSendWhenWritable_AndStopsOnceItNoLongerWants()
    {
        using EventLoop loop = NewLoop();
        using var pair = SocketPair.Create();
        using var handler = new RecordingHandler(pair.Local)
        {
            WantsToSend = true,
            OnSend = h =>
            {
                h.Socket.Send("ping"u8);
                h.WantsToSend = false; // re-read by the loop after dispatch: no Update needed
            },
        };
        loop.Add(handler);

        Assert.Equal(1, loop.RunOnce(TestTimeouts.Passing)); // a fresh connection is writable at once
        Assert.Equal(1, handler.SendCount);
        Assert.Equal(0, handler.ReceiveCount);
        Assert.Equal("ping"u8.ToArray(), Loopback.ReceiveExactly(pair.Remote, 4));

        Assert.Equal(0, loop.RunOnce(LoopDriver.Short));
        Assert.Equal(1, handler.SendCount);
    }

    [Fact]
    public void ReceiveIsDispatchedBeforeSend_InOneTurn()
    {
        using EventLoop loop = NewLoop();
        using var pair = SocketPair.Create();
        var log = new List<string>();
        using var handler = new RecordingHandler(pair.Local, log)
        {
            WantsToReceive = true,
            WantsToSend = true,
            OnSend = h => h.WantsToSend = false,
        };
        pair.SendToLocal([1, 2, 3]);
        loop.Add(handler);

        Assert.Equal(1, loop.RunOnce(TestTimeouts.Passing));

        Assert.Equal(["h:receive", "h:send"], log);
    }

    [Fact]
    public void HandlerThatStopsWantingToSendDuringReceive_GetsNoSendInThatTurn()
    {
        using EventLoop loop = NewLoop();
        using var pair = SocketPair.Create();
        var log = new List<string>();
        using var handler = new RecordingHandler(pair.Local, log)
        {
            WantsToReceive = true,
            WantsToSend = true,
            OnReceive = h => h.WantsToSend = false,
        };
        pair.SendToLocal([1]);
        loop.Add(handler);

        Assert.Equal(1, loop.RunOnce(TestTimeouts.Passing));

        Assert.Equal(["h:receive"], log);
    }

    [Fact]
    public void WantsChangedElsewhere_AreOnlyRepolledAfterUpdate()
    {
        using EventLoop loop = NewLoop();
        using var pair = SocketPair.Create();
        using var handler = new RecordingHandler(pair.Local); // wants nothing yet
        loop.Add(handler);
        pair.SendToLocal([42]);

        Assert.Equal(0, loop.RunOnce(LoopDriver.Short));

        handler.WantsToReceive = true; // changed from "another place": the loop is not told
        Assert.Equal(0, loop.RunOnce(LoopDriver.Short));
        Assert.Equal(0, loop.RunOnce(LoopDriver.Short));
        Assert.Equal(0, handler.ReceiveCount);

        loop.Update(handler);
        Assert.Equal(1, loop.RunOnce(TestTimeouts.Passing));
        Assert.Equal(1, handler.ReceiveCount);
        Assert.Equal(1, handler.BytesReceived);
    }

    [Fact]
    public void Update_OfUnregisteredHandler_IsIgnored()
    {
        using EventLoop loop = NewLoop();
        using var pair = SocketPair.Create();
        using var handler = new RecordingHandler(pair.Local) { WantsToReceive = true };
        pair.SendToLocal([1]);

        loop.Update(handler);

        Assert.Equal(0, loop.RunOnce(LoopDriver.Short));
        Assert.Equal(0, handler.ReceiveCount);
        Assert.Equal(0, loop.HandlerCount);
    }

    [Fact]
    public void Remove_StopsAllEvents_AndDoesNotCloseTheHandle()
    {
        using EventLoop loop = NewLoop();
        using var pair = SocketPair.Create();
        using var handler = new RecordingHandler(pair.Local) { WantsToReceive = true, WantsToSend = true };
        loop.Add(handler);
        pair.SendToLocal([1]);
        Assert.Equal(1, loop.RunOnce(TestTimeouts.Passing));
        Assert.Equal(1, handler.ReceiveCount);
        Assert.Equal(1, handler.SendCount);

        pair.SendToLocal([2]); // readable again, and still writable
        Assert.True(loop.Remove(handler));

        Assert.Equal(0, loop.RunOnce(LoopDriver.Short));
        Assert.Equal(0, loop.RunOnce(LoopDriver.Short));
        Assert.Equal(1, handler.ReceiveCount);
        Assert.Equal(1, handler.SendCount);
        Assert.Equal(0, loop.HandlerCount);
        Assert.False(loop.Remove(handler));
        Assert.False(handler.Handle.IsClosed);
        Assert.False(handler.IsDisposed);

        // And it can come back.
        loop.Add(handler);
        Assert.Equal(1, loop.RunOnce(TestTimeouts.Passing));
        Assert.Equal(2, handler.ReceiveCount);
    }

    [Fact]
    public void Add_SameHandlerTwice_Throws_AndTheFirstRegistrationKeepsWorking()
    {
        using EventLoop loop = NewLoop();
        using var pair = SocketPair.Create();
        using var handler = new RecordingHandler(pair.Local) { WantsToReceive = true };
        loop.Add(handler);

        Assert.Throws<InvalidOperationException>(() => loop.Add(handler));

        Assert.Equal(1, loop.HandlerCount);
        pair.SendToLocal([7]);
        Assert.Equal(1, loop.RunOnce(TestTimeouts.Passing));
        Assert.Equal(1, handler.ReceiveCount);
    }

    [Fact]
    public void Add_HandlerWithClosedHandle_ThrowsArgumentException()
    {
        using EventLoop loop = NewLoop();
        using var pair = SocketPair.Create();
        using var handler = new RecordingHandler(pair.Local) { WantsToReceive = true };
        pair.Local.Dispose();

        Assert.Throws<ArgumentException>(() => loop.Add(handler));
        Assert.Equal(0, loop.HandlerCount);
    }

    [Fact]
    public void AddRemoveAndUpdate_FromAnotherThreadWhileRunning_Throw()
    {
        using var pair = SocketPair.Create();
        using var handler = new RecordingHandler(pair.Local) { WantsToReceive = true };
        using var loopThread = new LoopThread(Backend);
        EventLoop loop = loopThread.Loop;
        loopThread.Invoke(() => { }); // Run is now active on the loop thread
        Assert.True(loop.IsRunning);
        Assert.False(loop.IsOnLoopThread);

        Assert.Throws<InvalidOperationException>(() => loop.Add(handler));
        Assert.Equal(0, loopThread.Invoke(() => loop.HandlerCount));

        loopThread.Invoke(() => loop.Add(handler));
        Assert.Throws<InvalidOperationException>(() => loop.Remove(handler));
        Assert.Throws<InvalidOperationException>(() => loop.Update(handler));
        Assert.Throws<InvalidOperationException>(() => loop.CallLater(TimeSpan.Zero, () => { }));
        Assert.Throws<InvalidOperationException>(() => loop.RunOnce(TimeSpan.Zero));
        Assert.Throws<InvalidOperationException>(() => loop.Run());

        // None of that disturbed the loop: the handler is still registered and served.
        Assert.Equal(1, loopThread.Invoke(() => loop.HandlerCount));
        pair.Remote.Send([1, 2]);
        Eventually.True(() => handler.BytesReceived == 2);
        Assert.True(loopThread.Invoke(() => loop.Remove(handler)));
    }

    [Fact]
    public void HandlerThatThrowsFromReceive_IsRemovedAndDisposed_WhileOthersAreStillServed()
    {
        var logger = new CollectingLogger();
        using EventLoop loop = NewLoop(logger);
        using var badPair = SocketPair.Create();
        using var goodPair = SocketPair.Create();
        var failure = new InvalidOperationException("boom");
        using var bad = new RecordingHandler(badPair.Local) { WantsToReceive = true, OnReceive = _ => throw failure };
        using var good = new RecordingHandler(goodPair.Local) { WantsToReceive = true };
        loop.Add(bad);
        loop.Add(good);

        badPair.SendToLocal([1]);
        goodPair.SendToLocal([1]);
        LoopDriver.RunUntil(loop, () => bad.IsDisposed && good.BytesReceived == 1);

        Assert.Equal(1, bad.ReceiveCount);
        Assert.Equal(1, loop.HandlerCount);
        Assert.False(loop.Remove(bad));
        LogEntry entry = Assert.Single(logger.Entries, e => e.Level == LogLevel.Error);
        Assert.Same(failure, entry.Exception);
        Assert.Contains(nameof(RecordingHandler), entry.Message, StringComparison.Ordinal);

        // The peer of the failed handler sees its connection closed.
        var buffer = new byte[16];
        Assert.Equal(0, badPair.Remote.Receive(buffer));

        // The other handler keeps being served, and the failed one hears nothing more.
        for (int i = 2; i <= 4; i++)
        {
            goodPair.SendToLocal([(byte)i]);
            int expected = i;
            LoopDriver.RunUntil(loop, () => good.BytesReceived == expected);
        }

        Assert.Equal(1, bad.ReceiveCount);
        Assert.Equal(0, good.SendCount);
    }

    [Fact]
    public void HandlerThatThrowsFromSend_IsRemovedAndDisposed()
    {
        var logger = new CollectingLogger();
        using EventLoop loop = NewLoop(logger);
        using var pair = SocketPair.Create();
        using var bad = new RecordingHandler(pair.Local) { WantsToSend = true, OnSend = _ => throw new InvalidOperationException("send failed") };
        loop.Add(bad);

        LoopDriver.RunUntil(loop, () => bad.IsDisposed);

        Assert.Equal(1, bad.SendCount);
        Assert.Equal(0, loop.HandlerCount);
        Assert.Single(logger.Entries, e => e.Level == LogLevel.Error && e.Exception is InvalidOperationException);
    }

    [Fact]
    public void HandlerThatIsNotDisposableAndThrows_HasItsHandleClosed()
    {
        using EventLoop loop = NewLoop();
        using var pair = SocketPair.Create();
        var handler = new PlainHandler(pair.Local);
        loop.Add(handler);

        pair.SendToLocal([1]);
        LoopDriver.RunUntil(loop, () => handler.ReceiveCount > 0);

        Assert.Equal(1, handler.ReceiveCount);
        Assert.True(handler.Handle.IsClosed);
        Assert.Equal(0, loop.HandlerCount);
        Assert.Equal(0, loop.RunOnce(LoopDriver.Short));
    }

    [Fact]
    public void HandlerRemovedEarlierInTheTurn_DoesNotGetItsAlreadyCollectedEvent()
    {
        using EventLoop loop = NewLoop();
        using var pairA = SocketPair.Create();
        using var pairB = SocketPair.Create();
        using var a = new RecordingHandler(pairA.Local) { WantsToReceive = true };
        using var b = new RecordingHandler(pairB.Local) { WantsToReceive = true };
        RecordingHandler? first = null;
        void RemoveTheOther(RecordingHandler self)
        {
            if (first is null)
            {
                first = self;
                Assert.True(loop.Remove(ReferenceEquals(self, a) ? b : a));
            }
        }

        a.OnReceive = RemoveTheOther;
        b.OnReceive = RemoveTheOther;
        loop.Add(a);
        loop.Add(b);
        pairA.SendToLocal([1]);
        pairB.SendToLocal([2]);

        Assert.Equal(1, loop.RunOnce(TestTimeouts.Passing));

        Assert.NotNull(first);
        Assert.Equal(1, a.ReceiveCount + b.ReceiveCount);
        Assert.Equal(1, loop.HandlerCount);
    }

    [Fact]
    public void DescriptorReusedInTheSameTurn_AfterRemove_NewHandlerGetsNoStaleEvent()
        => AssertNoStaleEventForReusedDescriptor(removeBeforeClose: true);

    [Fact]
    public void DescriptorReusedInTheSameTurn_ClosedWithoutRemove_NewHandlerGetsNoStaleEvent()
        => AssertNoStaleEventForReusedDescriptor(removeBeforeClose: false);

    [Fact]
    public void PeerHangsUpOnHandlerThatWantsNothing_LoopDoesNotSpin()
    {
        using EventLoop loop = NewLoop();
        using var pair = SocketPair.Create();
        using var handler = new RecordingHandler(pair.Local) { WantsToReceive = true };
        loop.Add(handler);
        Assert.Equal(0, loop.RunOnce(TimeSpan.Zero));

        handler.WantsToReceive = false; // paused, e.g. by back-pressure
        loop.Update(handler);
        Assert.Equal(0, loop.RunOnce(TimeSpan.Zero));

        pair.ResetRemote(); // error and hang-up on the local end
        SocketPair.WaitReadable(pair.Local);

        TimeSpan wait = TimeSpan.FromMilliseconds(30);
        for (int i = 0; i < 3; i++)
        {
            var sw = Stopwatch.StartNew();
            Assert.Equal(0, loop.RunOnce(wait));
            sw.Stop();
            Assert.True(sw.Elapsed >= wait, $"RunOnce returned after {sw.Elapsed.TotalMilliseconds} ms instead of blocking {wait.TotalMilliseconds} ms: the hang-up woke the loop");
        }

        Assert.Equal(0, handler.ReceiveCount);
        Assert.Equal(0, handler.SendCount);
        Assert.Equal(1, loop.HandlerCount);

        // Wanting to receive again delivers the error.
        handler.WantsToReceive = true;
        loop.Update(handler);
        Assert.Equal(1, loop.RunOnce(TestTimeouts.Passing));
        Assert.True(handler.SawEndOrError);
    }

    [Fact]
    public void Stop_FromAnotherThread_EndsRun_AndTheLoopCanRunAgain()
    {
        using EventLoop loop = NewLoop();
        for (int round = 0; round < 2; round++)
        {
            var returned = new ManualResetEventSlim();
            Exception? failure = null;
            var thread = new Thread(() =>
            {
                try
                {
                    loop.Run();
                }
                catch (Exception ex)
                {
                    failure = ex;
                }

                returned.Set();
            })
            { IsBackground = true, Name = "eventio-run-stop-test" };
            thread.Start();
            Eventually.True(() => loop.IsRunning);

            loop.Stop();

            Assert.True(returned.Wait(TestTimeouts.Passing), "Run did not return after Stop");
            Assert.True(thread.Join(TestTimeouts.Passing));
            Assert.Null(failure);
            Assert.False(loop.IsRunning);
            returned.Dispose();
        }
    }

    [Fact]
    public void Run_WithAlreadyCancelledToken_Returns()
    {
        using EventLoop loop = NewLoop();
        RunOnThreadAndJoin(loop, cancelAfterStart: null, new CancellationToken(canceled: true));
    }

    [Fact]
    public void Run_ReturnsWhenItsTokenIsCancelled()
    {
        using EventLoop loop = NewLoop();
        using var cts = new CancellationTokenSource();
        RunOnThreadAndJoin(loop, cancelAfterStart: cts, cts.Token);
    }

    [Fact]
    public async Task RunOnce_WithTimeout_ReturnsNoEarlierThanTheTimeout_WhenNothingHappens()
    {
        using EventLoop loop = NewLoop();
        using var pair = SocketPair.Create();
        using var handler = new RecordingHandler(pair.Local) { WantsToReceive = true };
        loop.Add(handler);
        TimeSpan timeout = TimeSpan.FromMilliseconds(100);

        (int work, TimeSpan elapsed) = await Task.Run(() =>
        {
            var sw = Stopwatch.StartNew();
            int n = loop.RunOnce(timeout);
            return (n, sw.Elapsed);
        }).DefaultTimeout();

        Assert.Equal(0, work);
        Assert.True(elapsed >= timeout, $"RunOnce returned after {elapsed.TotalMilliseconds} ms, before its {timeout.TotalMilliseconds} ms timeout");
        Assert.Equal(0, loop.RunOnce(TimeSpan.Zero));
    }

    [Fact]
    public void ManyReadyHandlers_AreAllServed_WithASmallEventBudget()
    {
        using EventLoop loop = NewLoop(maxEventsPerTurn: 2);
        var pairs = new List<SocketPair>();
        var handlers = new List<RecordingHandler>();
        try
        {
            for (int i = 0; i < 7; i++)
            {
                pairs.Add(SocketPair.Create());
                handlers.Add(new RecordingHandler(pairs[i].Local) { WantsToReceive = true });
                loop.Add(handlers[i]);
            }

            foreach (SocketPair pair in pairs)
            {
                pair.SendToLocal([9]);
            }

            int turns = LoopDriver.RunUntil(loop, () => handlers.TrueForAll(h => h.ReceiveCount == 1));

            Assert.True(turns >= 4, $"7 ready handlers with 2 events per turn were served in {turns} turns");
            Assert.All(handlers, h => Assert.Equal(1, h.BytesReceived));
        }
        finally
        {
            handlers.ForEach(h => h.Dispose());
            pairs.ForEach(p => p.Dispose());
        }
    }

    protected EventLoop NewLoop(ILogger? logger = null, int maxEventsPerTurn = 1024)
        => new(new EventLoopOptions { Backend = Backend, Logger = logger, MaxEventsPerTurn = maxEventsPerTurn });

    /// <summary>For backends without select's limit: a descriptor numbered above 1024 is watched like any other.</summary>
    protected void AssertHighDescriptorIsServed()
    {
        using EventLoop loop = NewLoop();
        using var pair = SocketPair.Create();
        SafeHandle high = HighDescriptor.Duplicate(pair.Local.SafeHandle, 1500);
        using var handler = new RecordingHandler(pair.Local, handle: high) { WantsToReceive = true };
        Assert.True(high.DangerousGetHandle() >= 1500);

        loop.Add(handler);
        pair.SendToLocal([1, 2, 3]);

        LoopDriver.RunUntil(loop, () => handler.BytesReceived == 3);
        Assert.True(loop.Remove(handler));
    }

    private void AssertNoStaleEventForReusedDescriptor(bool removeBeforeClose)
    {
        // The new socket normally gets the lowest free number, i.e. the one just closed; a test running
        // in parallel may grab it first, so try a few times and require at least one real reuse.
        int reused = 0;
        for (int attempt = 0; attempt < 20 && reused == 0; attempt++)
        {
            if (RunReuseScenario(removeBeforeClose))
            {
                reused++;
            }
        }

        Assert.True(reused > 0, "The closed descriptor's number was never reused: the scenario could not be built");
    }

    // Two handlers are ready in one turn. The first one dispatched removes (or not) and closes the
    // other, opens a socket that takes its number, and registers a new handler for it. The new socket
    // is never readable, so any receive it gets in that turn is the closed handler's event.
    // Returns false when the number could not be reused (another thread took it first).
    private bool RunReuseScenario(bool removeBeforeClose)
    {
        var logger = new CollectingLogger();
        using EventLoop loop = NewLoop(logger);
        using var pairA = SocketPair.Create();
        using var pairB = SocketPair.Create();
        using var a = new RecordingHandler(pairA.Local) { WantsToReceive = true };
        using var b = new RecordingHandler(pairB.Local) { WantsToReceive = true };
        var fillers = new List<Socket>();
        RecordingHandler? first = null, victim = null, replacement = null;
        int victimFd = -1, replacementFd = -2;

        void CloseTheOtherAndReuse(RecordingHandler self)
        {
            if (first is not null)
            {
                return;
            }

            first = self;
            victim = ReferenceEquals(self, a) ? b : a;
            victimFd = (int)victim.Handle.DangerousGetHandle();
            if (removeBeforeClose)
            {
                Assert.True(loop.Remove(victim));
            }

            victim.Socket.Dispose();

            // Lower numbers freed earlier (the pairs' listeners) are handed out first: take them as fillers.
            Socket socket = NewUdpSocket();
            while ((int)socket.SafeHandle.DangerousGetHandle() < victimFd && fillers.Count < 256)
            {
                fillers.Add(socket);
                socket = NewUdpSocket();
            }

            replacementFd = (int)socket.SafeHandle.DangerousGetHandle();
            replacement = new RecordingHandler(socket, name: "replacement") { WantsToReceive = true };
            loop.Add(replacement); // the loop owns it now: disposed with the loop
        }

        try
        {
            a.OnReceive = CloseTheOtherAndReuse;
            b.OnReceive = CloseTheOtherAndReuse;
            loop.Add(a);
            loop.Add(b);
            pairA.SendToLocal([1]);
            pairB.SendToLocal([2]);

            int work = loop.RunOnce(TestTimeouts.Passing);

            Assert.NotNull(first);
            Assert.NotNull(victim);
            Assert.NotNull(replacement);
            Assert.Equal(1, first.ReceiveCount);
            Assert.Equal(0, replacement.ReceiveCount);
            Assert.Equal(0, replacement.SendCount);
            if (replacementFd != victimFd)
            {
                return false; // not the scenario; a handler closed without Remove may then still get its event
            }

            Assert.Equal(1, work); // only the first handler was dispatched
            Assert.Equal(0, victim.ReceiveCount);
            Assert.Equal(2, loop.HandlerCount);
            if (!removeBeforeClose)
            {
                Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.EventId == 1002);
            }

            // Later turns: the replacement has nothing to read and hears nothing.
            Assert.Equal(0, loop.RunOnce(LoopDriver.Short));
            Assert.Equal(0, replacement.ReceiveCount);
            Assert.Equal(0, victim.ReceiveCount);

            // It is really watched under that number: a datagram to it is delivered to it.
            using var sender = Loopback.UdpClient();
            replacement.Socket.Bind(Loopback.AnyPort);
            sender.SendTo([5, 6], replacement.Socket.LocalEndPoint!);
            LoopDriver.RunUntil(loop, () => replacement.BytesReceived == 2);
            return true;
        }
        finally
        {
            fillers.ForEach(f => f.Dispose());
        }

        static Socket NewUdpSocket() => new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { Blocking = false };
    }

    private static void RunOnThreadAndJoin(EventLoop loop, CancellationTokenSource? cancelAfterStart, CancellationToken token)
    {
        using var returned = new ManualResetEventSlim();
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                loop.Run(token);
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            returned.Set();
        })
        { IsBackground = true, Name = "eventio-run-cancel-test" };
        thread.Start();
        if (cancelAfterStart is not null)
        {
            Eventually.True(() => loop.IsRunning);
            cancelAfterStart.Cancel();
        }

        bool ok = returned.Wait(TestTimeouts.Passing, CancellationToken.None);
        if (!ok)
        {
            loop.Stop(); // do not leave the thread in Run
        }

        Assert.True(ok, "Run did not return for a cancelled token");
        Assert.True(thread.Join(TestTimeouts.Passing));
        Assert.Null(failure);
        Assert.False(loop.IsRunning);
    }
}
