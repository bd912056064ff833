using System.Runtime.InteropServices;
using EventIO.Polling;

namespace EventIO.Tests.Loop;

/// <summary>The loop contract on select(2), plus its descriptor limit.</summary>
public sealed class SelectEventLoopTests : EventLoopContract
{
    public SelectEventLoopTests()
        : base(PollerBackend.Select, "select")
    {
    }

    [Theory]
    [InlineData(1024, true)]
    [InlineData(1500, true)]
    [InlineData(1024, false)] // refused even while it wants nothing yet, not later when it starts wanting
    public void Add_DescriptorAtOrAbove1024_ThrowsNotSupported_AndLeavesTheLoopUsable(int minimum, bool wantsToReceive)
    {
        using EventLoop loop = NewLoop();
        using var pair = SocketPair.Create();
        using SafeHandle high = HighDescriptor.Duplicate(pair.Local.SafeHandle, minimum);
        Assert.True(high.DangerousGetHandle() >= minimum);
        var refused = new RecordingHandler(pair.Local, handle: high) { WantsToReceive = wantsToReceive };

        NotSupportedException ex = Assert.Throws<NotSupportedException>(() => loop.Add(refused));

        Assert.Contains("1024", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, loop.HandlerCount);
        Assert.False(high.IsClosed); // refusing does not close what it was given

        // The loop is not corrupted: a normal descriptor is still served.
        using var handler = new RecordingHandler(pair.Local) { WantsToReceive = true };
        loop.Add(handler);
        pair.SendToLocal([1]);
        LoopDriver.RunUntil(loop, () => handler.BytesReceived == 1);
        Assert.Equal(0, refused.ReceiveCount);
    }
}
