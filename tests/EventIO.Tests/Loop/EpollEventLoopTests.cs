using EventIO.Polling;

namespace EventIO.Tests.Loop;

/// <summary>The loop contract on epoll, plus what epoll can do that select cannot.</summary>
public sealed class EpollEventLoopTests : EventLoopContract
{
    public EpollEventLoopTests()
        : base(PollerBackend.Epoll, "epoll")
    {
    }

    [Fact]
    public void DescriptorAbove1024_IsServed() => AssertHighDescriptorIsServed();

    [Fact]
    public void DefaultBackend_IsEpoll()
    {
        using var loop = new EventLoop();
        Assert.Equal("epoll", loop.Backend);
    }
}
