using EventIO.Polling;

namespace EventIO.Tests.Loop;

/// <summary>The loop contract on io_uring (readiness through one-shot POLL_ADD, re-armed: level-triggered).</summary>
public sealed class IoUringEventLoopTests : EventLoopContract
{
    public IoUringEventLoopTests()
        : base(PollerBackend.IoUring, "io_uring")
    {
    }

    [Fact]
    public void DescriptorAbove1024_IsServed() => AssertHighDescriptorIsServed();

    [Fact]
    public void Auto_PicksIoUringWhereTheKernelAllowsIt()
    {
        using var loop = new EventLoop(new EventLoopOptions { Backend = PollerBackend.Auto });
        Assert.Equal(OperatingSystem.IsLinux() && IoUringPoller.IsSupported(out _) ? "io_uring" : "epoll", loop.Backend);
    }
}
