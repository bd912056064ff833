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
    public void DefaultBackend_IsEpoll_UnlessEventioBackendNamesAnother()
    {
        using var loop = new EventLoop();
        string? chosen = Environment.GetEnvironmentVariable("EVENTIO_BACKEND");
        Assert.Equal(string.IsNullOrWhiteSpace(chosen) ? "epoll" : chosen == "auto" ? loop.Backend : chosen, loop.Backend);
    }
}
