using EventIO.Polling;

namespace EventIO.Tests.Loop;

/// <summary>The loop contract on poll(2), plus what poll can do that select cannot.</summary>
public sealed class PollEventLoopTests : EventLoopContract
{
    public PollEventLoopTests()
        : base(PollerBackend.Poll, "poll")
    {
    }

    [Fact]
    public void DescriptorAbove1024_IsServed() => AssertHighDescriptorIsServed();
}
