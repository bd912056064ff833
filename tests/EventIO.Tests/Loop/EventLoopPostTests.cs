using System.Diagnostics;
using EventIO.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace EventIO.Tests.Loop;

/// <summary>Post: the thread-safe way in. Order, exactly-once delivery, coalesced wake-ups, disposal.</summary>
public sealed class EventLoopPostTests
{
    [Fact]
    public void PostsFromOneThread_RunInOrder_OnTheLoopThread()
    {
        using var loopThread = new LoopThread();
        EventLoop loop = loopThread.Loop;
        var seen = new List<int>();
        int count = 0;
        bool allOnLoopThread = true;

        for (int i = 0; i < 2000; i++)
        {
            int n = i;
            Assert.True(loop.Post(() =>
            {
                allOnLoopThread &= loop.IsOnLoopThread;
                seen.Add(n);
                Interlocked.Increment(ref count);
            }));
        }

        Eventually.True(() => Volatile.Read(ref count) == 2000);
        int[] snapshot = loopThread.Invoke(() => seen.ToArray());
        Assert.Equal(Enumerable.Range(0, 2000), snapshot);
        Assert.True(loopThread.Invoke(() => allOnLoopThread));
    }

    [Fact]
    public void PostsFromFourThreads_EachRunExactlyOnce_InOrderPerThread()
    {
        const int Threads = 4;
        const int PerThread = 10_000;
        using var loopThread = new LoopThread();
        EventLoop loop = loopThread.Loop;
        var runs = new int[Threads * PerThread];
        var lastSeen = new int[Threads];
        Array.Fill(lastSeen, -1);
        int outOfOrder = 0;
        int total = 0;
        int refused = 0;
        using var start = new ManualResetEventSlim();

        var posters = new Thread[Threads];
        for (int t = 0; t < Threads; t++)
        {
            int thread = t;
            posters[t] = new Thread(() =>
            {
                if (!start.Wait(TestTimeouts.Passing))
                {
                    return;
                }

                for (int i = 0; i < PerThread; i++)
                {
                    int n = i;
                    bool posted = loop.Post(() =>
                    {
                        // Loop thread only: plain reads and writes of lastSeen are safe.
                        if (n != lastSeen[thread] + 1)
                        {
                            outOfOrder++;
                        }

                        lastSeen[thread] = n;
                        Interlocked.Increment(ref runs[(thread * PerThread) + n]);
                        Interlocked.Increment(ref total);
                    });
                    if (!posted)
                    {
                        Interlocked.Increment(ref refused);
                    }
                }
            })
            { IsBackground = true, Name = $"poster-{t}" };
            posters[t].Start();
        }

        start.Set();
        foreach (Thread poster in posters)
        {
            Assert.True(poster.Join(TestTimeouts.Passing));
        }

        Eventually.True(() => Volatile.Read(ref total) == Threads * PerThread);
        loopThread.Invoke(() => { }); // one more round trip: nothing ran twice meanwhile

        Assert.Equal(0, Volatile.Read(ref refused));
        Assert.Equal(Threads * PerThread, Volatile.Read(ref total));
        Assert.All(runs, r => Assert.Equal(1, r));
        Assert.Equal(0, loopThread.Invoke(() => outOfOrder));
    }

    [Fact]
    public void RoundTripsFromSeveralThreads_NeverLoseAWakeup()
    {
        // Each round trip needs a wake-up of a loop that is asleep or about to sleep; a wake-up lost in
        // the race between draining the waker and a new Post leaves the loop asleep for good.
        const int Threads = 3;
        const int RoundTrips = 3_000;
        using var loopThread = new LoopThread();
        EventLoop loop = loopThread.Loop;
        var failures = new string?[Threads];
        var threads = new Thread[Threads];
        for (int t = 0; t < Threads; t++)
        {
            int thread = t;
            threads[t] = new Thread(() =>
            {
                using var ran = new ManualResetEventSlim();
                for (int i = 0; i < RoundTrips; i++)
                {
                    ran.Reset();
                    loop.Post(ran.Set);
                    if (!ran.Wait(TestTimeouts.Passing))
                    {
                        failures[thread] = $"round trip {i} of thread {thread} never ran: the loop slept through its wake-up";
                        return;
                    }
                }
            })
            { IsBackground = true, Name = $"round-trip-{t}" };
            threads[t].Start();
        }

        foreach (Thread thread in threads)
        {
            Assert.True(thread.Join(TestTimeouts.Scale(TimeSpan.FromSeconds(30))));
        }

        Assert.All(failures, Assert.Null);
    }

    [Fact]
    public void Post_AfterDispose_ReturnsFalse_AndNeverRuns()
    {
        var loop = new EventLoop();
        bool ran = false;
        loop.Dispose();

        Assert.False(loop.Post(() => ran = true));
        Assert.False(loop.Post(_ => ran = true, null));
        Assert.False(ran);
        loop.Dispose(); // idempotent
    }

    [Fact]
    public void Post_Null_Throws()
    {
        using var loop = new EventLoop();
        Assert.Throws<ArgumentNullException>(() => loop.Post(null!));
        Assert.Throws<ArgumentNullException>(() => loop.Post(null!, null));
    }

    [Fact]
    public async Task ManyPostsBeforeTheLoopWakes_RunInOneTurn_AndLeaveNoWakeupBehind()
    {
        using var loop = new EventLoop();
        int ran = 0;
        await Task.Run(() =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                loop.Post(() => ran++);
            }
        }).DefaultTimeout();

        Assert.Equal(10_000, loop.RunOnce(TestTimeouts.Passing));
        Assert.Equal(10_000, ran);

        // The wake-up was drained: the next turn sleeps its whole timeout instead of waking at once.
        TimeSpan wait = TimeSpan.FromMilliseconds(30);
        var sw = Stopwatch.StartNew();
        Assert.Equal(0, loop.RunOnce(wait));
        Assert.True(sw.Elapsed >= wait, $"the loop woke after {sw.Elapsed.TotalMilliseconds} ms with nothing to do");
    }

    [Fact]
    public void PostFromAPostedAction_RunsOnTheNextTurn()
    {
        using var loop = new EventLoop();
        var ran = new List<string>();
        loop.Post(() =>
        {
            ran.Add("outer");
            loop.Post(() => ran.Add("inner"));
        });

        Assert.Equal(1, loop.RunOnce(TestTimeouts.Passing));
        Assert.Equal(["outer"], ran);
        Assert.Equal(1, loop.RunOnce(TestTimeouts.Passing));
        Assert.Equal(["outer", "inner"], ran);
    }

    [Fact]
    public void ThrowingPostedAction_IsLogged_AndTheNextOneStillRuns()
    {
        var logger = new CollectingLogger();
        using var loop = new EventLoop(new EventLoopOptions { Logger = logger });
        var failure = new InvalidOperationException("posted failed");
        bool after = false;
        loop.Post(() => throw failure);
        loop.Post(() => after = true);

        Assert.Equal(2, loop.RunOnce(TestTimeouts.Passing));

        Assert.True(after);
        LogEntry entry = Assert.Single(logger.Entries, e => e.Level == LogLevel.Error);
        Assert.Same(failure, entry.Exception);
    }

    [Fact]
    public void Post_WakesALoopBlockedWithoutTimeout()
    {
        using var loopThread = new LoopThread();
        using var ran = new ManualResetEventSlim();
        loopThread.Invoke(() => { }); // the loop is in Run, blocked with no timer and no handler

        Assert.True(loopThread.Loop.Post(ran.Set));

        Assert.True(ran.Wait(TestTimeouts.Passing));
    }
}
