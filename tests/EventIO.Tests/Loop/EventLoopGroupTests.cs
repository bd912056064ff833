using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Loop;

/// <summary>A group of loops: named threads, each its own loop, started and stopped together.</summary>
public sealed class EventLoopGroupTests
{
    [Fact]
    public void EachLoop_RunsOnItsOwnNamedThread_AndKnowsItIsCurrent()
    {
        using var group = new EventLoopGroup(3);
        group.Start();
        var seen = new (string? Thread, bool Current)[3];
        for (int i = 0; i < 3; i++)
        {
            int index = i;
            seen[i] = LoopThread.InvokeOn(group[i], () => (Thread.CurrentThread.Name, ReferenceEquals(EventLoop.Current, group[index])));
        }

        Assert.Equal([("loop-0", true), ("loop-1", true), ("loop-2", true)], seen);
        Assert.Null(EventLoop.Current); // not on a loop here
        Assert.Equal(3, group.Loops.Select(l => l).Distinct().Count());
    }

    [Fact]
    public void Stop_EndsEveryLoop_AndRunReturns()
    {
        using var group = new EventLoopGroup(2);
        var run = new Thread(() => group.Run()) { IsBackground = true };
        run.Start();
        Assert.Equal(1, LoopThread.InvokeOn(group[1], () => 1)); // running

        group.Stop();

        Assert.True(run.Join(TestTimeouts.Passing), "Run did not return after Stop");
        Assert.True(group.WaitForExit(TimeSpan.Zero));
    }

    [Fact]
    public void ALoopThatFails_StopsTheOthers_AndRunRethrowsItsException()
    {
        using var group = new EventLoopGroup(2);
        Exception? thrown = null;
        var run = new Thread(() => thrown = Record.Exception(() => group.Run())) { IsBackground = true };
        run.Start();

        // Break loop 1's poller: its wait fails, which is a broken invariant, thrown out of its Run.
        LoopThread.InvokeOn(group[1], () => { BreakPoller(group[1]); return 0; });

        Assert.True(run.Join(TestTimeouts.Passing), "the other loop did not stop with the failed one");
        var aggregate = Assert.IsType<AggregateException>(thrown);
        Assert.NotNull(aggregate.InnerException);
        Assert.NotNull(group.Failure);
    }

    [Fact]
    public void Next_GoesRoundRobin()
    {
        using var group = new EventLoopGroup(3);
        EventLoop[] picked = [.. Enumerable.Range(0, 6).Select(_ => group.Next())];
        Assert.Equal([group[0], group[1], group[2], group[0], group[1], group[2]], picked);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(EventLoopGroup.MaxLoops + 1)]
    public void ALoopCountOutOfRange_IsRefused(int loops)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new EventLoopGroup(loops));

    [Fact]
    public void DefaultLoopCount_IsTheCpusThisProcessMayUse()
        => Assert.Equal(Environment.ProcessorCount, EventLoopGroup.DefaultLoopCount);

    // Closes the epoll descriptor under the loop: its next wait fails with EBADF.
    private static void BreakPoller(EventLoop loop)
    {
        var registry = (Registry)typeof(EventLoop).GetField("_registry", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(loop)!;
        var poller = typeof(Registry).GetField("_poller", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(registry)!;
        ((IDisposable)poller).Dispose();
    }
}
