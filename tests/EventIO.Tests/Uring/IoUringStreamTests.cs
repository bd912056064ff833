using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using EventIO.Interop;
using EventIO.Polling;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Loop;
using Xunit.Abstractions;
using static EventIO.Tests.Uring.UringTestSupport;

namespace EventIO.Tests.Uring;

/// <summary>
/// TCP through the ring: multishot RECV into a provided buffer ring (buffer ids, recycling, running dry,
/// re-arming, end of stream) and SEND of more than the socket takes at once.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class IoUringStreamTests(ITestOutputHelper output)
{
    private const ulong RecvTag = 60;
    private const ushort Group = 3;

    [UringFact]
    public void MultishotRecv_FillsProvidedBuffersInRingOrder_AndEndsWithEnobufsWhenDry()
    {
        using IoUring ring = CreateRing(16);
        using var buffers = new ProvidedBufferRing(ring, Group, count: 4, bufferSize: 64);
        using SocketPair pair = SocketPair.Create();
        int fd = Fd(pair.Local);
        IoUringPrep.RecvMultishot(ref ring.GetSqe(), fd, Group, RecvTag);
        Assert.Empty(CollectFor(ring, TimeSpan.Zero));

        // Four messages, one at a time: buffers 0..3 in the order they were provided.
        for (ushort i = 0; i < 4; i++)
        {
            string message = $"message {i}";
            pair.Remote.Send(Encoding.ASCII.GetBytes(message));
            IoUringCompletion received = Assert.Single(Collect(ring, 1));

            Assert.Equal(RecvTag, received.UserData);
            Assert.True(received.HasMore, $"message {i}: {received}");
            Assert.True(received.HasBuffer);
            Assert.Equal(i, received.BufferId);
            Assert.Equal(message, Encoding.ASCII.GetString(buffers.Get(received.BufferId, received.Result)));
        }

        // None recycled. With no data the receive stays armed on a dry group: the kernel picks a buffer only
        // when data arrives. Then the next message finds the group dry and the multishot receive ends.
        Assert.Empty(CollectFor(ring, TestTimeouts.NothingHappens));
        pair.Remote.Send("late"u8);
        IoUringCompletion dry = Assert.Single(Collect(ring, 1));
        output.WriteLine($"dry: {dry}");
        Assert.Equal(-Libc.ENOBUFS, dry.Result);
        Assert.False(dry.HasMore);
        Assert.False(dry.HasBuffer);
        Assert.Empty(CollectFor(ring, TestTimeouts.NothingHappens)); // not armed any more

        // Recycle in another order, publish, re-arm: the waiting bytes arrive in the first recycled buffer.
        foreach (ushort id in new ushort[] { 2, 0, 3, 1 })
        {
            buffers.Recycle(id);
        }

        Assert.Equal(4, buffers.StagedCount);
        buffers.PublishRecycled();
        Assert.Equal(0, buffers.StagedCount);
        IoUringPrep.RecvMultishot(ref ring.GetSqe(), fd, Group, RecvTag);
        IoUringCompletion late = Assert.Single(Collect(ring, 1));
        Assert.Equal("late", Encoding.ASCII.GetString(buffers.Get(late.BufferId, late.Result)));
        Assert.Equal(2, late.BufferId);
        Assert.True(late.HasMore);
        buffers.Recycle(late.BufferId);
        buffers.PublishRecycled();

        // More than one buffer's worth: split across buffers of at most 64 bytes, in order.
        byte[] big = Enumerable.Range(0, 150).Select(i => (byte)i).ToArray();
        pair.Remote.Send(big);
        var data = new List<byte>();
        var ids = new List<ushort>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (data.Count < big.Length && clock.Elapsed < TestTimeouts.Passing)
        {
            foreach (IoUringCompletion part in Collect(ring, 1))
            {
                Assert.True(part.Result is > 0 and <= 64, $"part: {part}");
                Assert.True(part.HasMore);
                data.AddRange(buffers.Get(part.BufferId, part.Result).ToArray());
                ids.Add(part.BufferId);
                buffers.Recycle(part.BufferId);
            }

            buffers.PublishRecycled();
        }

        Assert.Equal(big, data.ToArray());
        output.WriteLine($"150 bytes arrived in buffers {string.Join(",", ids)}");
        Assert.Equal(ids.Count, ids.Distinct().Count());

        // The peer ends the stream: a final completion with 0 and no buffer.
        pair.Remote.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        IoUringCompletion end = Assert.Single(Collect(ring, 1));
        Assert.Equal(0, end.Result);
        Assert.False(end.HasMore);
        Assert.False(end.HasBuffer);
    }

    [UringFact]
    public void MultishotRecv_MarksSocketNonEmpty_WhenMoreWaitsThanABufferHolds()
    {
        using IoUring ring = CreateRing(16);
        using var buffers = new ProvidedBufferRing(ring, Group, count: 8, bufferSize: 16);
        using SocketPair pair = SocketPair.Create();
        pair.SendToLocal(new byte[40]); // already waiting when the receive is armed
        IoUringPrep.RecvMultishot(ref ring.GetSqe(), Fd(pair.Local), Group, RecvTag);

        List<IoUringCompletion> parts = Collect(ring, 3);

        Assert.Equal([16, 16, 8], parts.Select(p => p.Result));
        Assert.True(parts[0].SocketNonEmpty, parts[0].ToString());
        Assert.True(parts[1].SocketNonEmpty, parts[1].ToString());
        Assert.False(parts[2].SocketNonEmpty, parts[2].ToString());
        Assert.All(parts, p => Assert.True(p.HasMore));
    }

    [UringFact]
    public void Send_OfMoreThanTheSocketTakes_IsShort_AndTheCallerSendsTheRest()
    {
        const int Total = 8 * 1024 * 1024;
        using IoUring ring = CreateRing(16);
        using SocketPair pair = SocketPair.Create();
        pair.Local.SendBufferSize = 64 * 1024;
        pair.Remote.ReceiveBufferSize = 64 * 1024;
        byte* data = (byte*)NativeMemory.Alloc(Total);
        try
        {
            var pattern = new Span<byte>(data, Total);
            for (int i = 0; i < Total; i++)
            {
                pattern[i] = (byte)(i * 7 + (i >> 13));
            }

            byte[] expected = pattern.ToArray();
            int fd = Fd(pair.Local);
            IoUringPrep.Send(ref ring.GetSqe(), fd, data, Total, 70);
            IoUringCompletion first = Assert.Single(Collect(ring, 1)); // nobody reads yet

            Assert.True(first.Result > 0 && first.Result < Total, $"first send: {first}");
            output.WriteLine($"first SEND of {Total} bytes took {first.Result}");

            // Now the peer reads while the caller resubmits the remainder.
            var reader = Task.Run(() => Loopback.ReceiveExactly(pair.Remote, Total));
            int sent = first.Result;
            int sends = 1;
            while (sent < Total)
            {
                IoUringPrep.Send(ref ring.GetSqe(), fd, data + sent, (uint)(Total - sent), 70);
                IoUringCompletion next = Assert.Single(Collect(ring, 1));
                Assert.True(next.Result > 0, $"send {sends}: {next}");
                sent += next.Result;
                sends++;
            }

            Assert.Equal(Total, sent);
            Assert.True(reader.Wait(TestTimeouts.Passing), "the peer did not receive everything in time");
            Assert.True(expected.AsSpan().SequenceEqual(reader.Result), "the bytes arrived altered or out of order");
            output.WriteLine($"{Total} bytes in {sends} SENDs");
        }
        finally
        {
            NativeMemory.Free(data);
        }
    }

    [UringFact]
    public void Send_ToAResetPeer_FailsInTheCompletion()
    {
        using IoUring ring = CreateRing(8);
        using SocketPair pair = SocketPair.Create();
        pair.ResetRemote();
        byte* data = stackalloc byte[16];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        IoUringCompletion result = default;
        while (clock.Elapsed < TestTimeouts.Passing)
        {
            IoUringPrep.Send(ref ring.GetSqe(), Fd(pair.Local), data, 16, 80);
            result = Assert.Single(Collect(ring, 1));
            if (result.Result < 0)
            {
                break;
            }
        }

        // MSG_NOSIGNAL: an error value, not SIGPIPE.
        Assert.True(result.Result is -104 or -32, $"send to a reset peer: {result}"); // ECONNRESET or EPIPE
    }
}
