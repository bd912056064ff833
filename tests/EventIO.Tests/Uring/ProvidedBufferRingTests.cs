using System.ComponentModel;
using System.Runtime.Versioning;
using EventIO.Interop;
using EventIO.Polling;
using static EventIO.Tests.Uring.UringTestSupport;

namespace EventIO.Tests.Uring;

/// <summary>The provided-buffer ring's own rules: sizes, buffer bounds, recycling, registration, disposal.</summary>
[SupportedOSPlatform("linux")]
public sealed class ProvidedBufferRingTests
{
    [UringFact]
    public void Constructor_RejectsCountsThatAreNotPowersOfTwo_AndEmptyBuffers()
    {
        using IoUring ring = CreateRing(8);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProvidedBufferRing(ring, 1, 0, 64));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProvidedBufferRing(ring, 1, 3, 64));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProvidedBufferRing(ring, 1, 65536, 64));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProvidedBufferRing(ring, 1, 4, 0));
    }

    [UringFact]
    public void Buffers_AreDistinct_AndBoundsAreChecked()
    {
        using IoUring ring = CreateRing(8);
        using var buffers = new ProvidedBufferRing(ring, 1, 4, 100);
        Assert.Equal((ushort)1, buffers.GroupId);
        Assert.Equal(4, buffers.Count);
        Assert.Equal(100, buffers.BufferSize);
        for (ushort id = 0; id < 4; id++)
        {
            buffers.Get(id, 100).Fill((byte)(id + 1));
        }

        for (ushort id = 0; id < 4; id++)
        {
            Assert.All(buffers.Get(id, 100).ToArray(), b => Assert.Equal(id + 1, b));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => buffers.Get(4, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffers.Get(0, 101));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffers.Recycle(4));
    }

    [UringFact]
    public void RecyclingMoreThanTheGroupHolds_IsRefused()
    {
        using IoUring ring = CreateRing(8);
        using var buffers = new ProvidedBufferRing(ring, 1, 2, 16);
        buffers.Recycle(0);
        buffers.Recycle(1);

        Assert.Throws<InvalidOperationException>(() => buffers.Recycle(0));
        buffers.PublishRecycled();
        Assert.Equal(0, buffers.StagedCount);
    }

    [UringFact]
    public void TheSameGroupTwice_IsRefusedByTheKernel_AndAfterDisposeItCanBeRegisteredAgain()
    {
        using IoUring ring = CreateRing(8);
        var first = new ProvidedBufferRing(ring, 9, 4, 16);

        var error = Assert.Throws<Win32Exception>(() => new ProvidedBufferRing(ring, 9, 4, 16));
        Assert.Equal(Libc.EEXIST, error.NativeErrorCode);

        first.Dispose();
        first.Dispose();
        Assert.Throws<ObjectDisposedException>(() => first.Get(0, 1));
        using var second = new ProvidedBufferRing(ring, 9, 4, 16);
        Assert.Equal(4, second.Count);
    }

    [UringFact]
    public void DisposingTheRingFirst_ThenTheBuffers_IsSafe()
    {
        IoUring ring = CreateRing(8);
        var buffers = new ProvidedBufferRing(ring, 2, 4, 16);

        ring.Dispose();
        buffers.Dispose();
        buffers.Dispose();

        Assert.Throws<ObjectDisposedException>(() => buffers.Recycle(0));
    }
}
