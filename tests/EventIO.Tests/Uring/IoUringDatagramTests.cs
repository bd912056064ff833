using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using EventIO.Interop;
using EventIO.Polling;
using EventIO.Tests.Infrastructure;
using Xunit.Abstractions;
using static EventIO.Tests.Uring.UringTestSupport;

namespace EventIO.Tests.Uring;

/// <summary>
/// UDP through the ring: multishot RECVMSG into provided buffers (source address, payload, truncation) and
/// SENDMSG replies, batched in one submit, each to the peer it answers.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class IoUringDatagramTests(ITestOutputHelper output)
{
    private const ulong RecvTag = 90;
    private const ushort Group = 5;
    private const int BufferSize = 256;
    private const int NameLength = 16; // sockaddr_in
    private const int HeaderLength = 16; // io_uring_recvmsg_out

    [UringFact]
    public void MultishotRecvMsg_ReportsEachSender_AndSendMsgRepliesReachTheRightPeers()
    {
        using IoUring ring = CreateRing(16);
        using var buffers = new ProvidedBufferRing(ring, Group, count: 8, bufferSize: BufferSize);
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(Loopback.AnyPort);
        var serverEndPoint = (IPEndPoint)server.LocalEndPoint!;
        using Socket clientA = Loopback.UdpClient();
        using Socket clientB = Loopback.UdpClient();
        var replies = new List<nint>();
        var receiveHeader = (Libc.msghdr*)NativeMemory.AllocZeroed((nuint)sizeof(Libc.msghdr));
        try
        {
            receiveHeader->msg_namelen = NameLength;
            IoUringPrep.RecvMsgMultishot(ref ring.GetSqe(), Fd(server), receiveHeader, Group, RecvTag);
            ring.SubmitAndWait(0, 0);

            clientA.SendTo("ping-A"u8, serverEndPoint);
            clientB.SendTo("ping-B"u8, serverEndPoint);
            List<IoUringCompletion> received = Collect(ring, 2);

            Assert.Equal(2, received.Count);
            var requests = new List<(IPEndPoint From, string Text, byte[] Name)>();
            foreach (IoUringCompletion completion in received)
            {
                Assert.Equal(RecvTag, completion.UserData);
                Assert.True(completion.HasMore && completion.HasBuffer, completion.ToString());
                Assert.Equal(HeaderLength + NameLength + 6, completion.Result);
                Assert.True(IoUringRecvMessage.TryParse(buffers.Get(completion.BufferId, completion.Result), NameLength, 0, out IoUringRecvMessage message));
                Assert.False(message.IsTruncated);
                Assert.Equal(6u, message.PayloadLength);
                Assert.Equal(0, message.Control.Length);
                requests.Add((ParseSockaddrIn(message.Name), Encoding.ASCII.GetString(message.Payload), message.Name.ToArray()));
                buffers.Recycle(completion.BufferId);
            }

            buffers.PublishRecycled();
            Assert.Equal(clientA.LocalEndPoint, requests.Single(r => r.Text == "ping-A").From);
            Assert.Equal(clientB.LocalEndPoint, requests.Single(r => r.Text == "ping-B").From);

            // Both replies queued, then one system call sends them.
            ulong tag = 100;
            foreach ((IPEndPoint _, string text, byte[] name) in requests)
            {
                byte* reply = AllocateReply(name, Encoding.ASCII.GetBytes("pong:" + text), out Libc.msghdr* header);
                replies.Add((nint)reply);
                IoUringPrep.SendMsg(ref ring.GetSqe(), Fd(server), header, tag++);
            }

            Assert.Equal(2, ring.SubmitAndWait(2, (int)TestTimeouts.Passing.TotalMilliseconds));
            List<IoUringCompletion> sent = Collect(ring, 2);
            Assert.All(sent, s => Assert.Equal(11, s.Result));

            Assert.Equal("pong:ping-A", ReceiveText(clientA, serverEndPoint));
            Assert.Equal("pong:ping-B", ReceiveText(clientB, serverEndPoint));
        }
        finally
        {
            NativeMemory.Free(receiveHeader);
            replies.ForEach(r => NativeMemory.Free((void*)r));
        }
    }

    [UringFact]
    public void MultishotRecvMsg_TruncatesALongDatagram_AndSaysSo_AndKeepsAnEmptyOne()
    {
        using IoUring ring = CreateRing(16);
        using var buffers = new ProvidedBufferRing(ring, Group, count: 4, bufferSize: BufferSize);
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(Loopback.AnyPort);
        using Socket client = Loopback.UdpClient();
        var receiveHeader = (Libc.msghdr*)NativeMemory.AllocZeroed((nuint)sizeof(Libc.msghdr));
        try
        {
            receiveHeader->msg_namelen = NameLength;
            IoUringPrep.RecvMsgMultishot(ref ring.GetSqe(), Fd(server), receiveHeader, Group, RecvTag);
            ring.SubmitAndWait(0, 0);
            byte[] big = Enumerable.Range(0, 300).Select(i => (byte)(i * 3)).ToArray();

            client.SendTo(big, server.LocalEndPoint!);
            IoUringCompletion truncated = Assert.Single(Collect(ring, 1));
            client.SendTo([], server.LocalEndPoint!);
            IoUringCompletion empty = Assert.Single(Collect(ring, 1));

            Assert.Equal(BufferSize, truncated.Result); // header + name + as much payload as fits
            Assert.True(IoUringRecvMessage.TryParse(buffers.Get(truncated.BufferId, truncated.Result), NameLength, 0, out IoUringRecvMessage cut));
            Assert.True(cut.IsTruncated);
            Assert.Equal(300u, cut.PayloadLength);
            Assert.Equal(BufferSize - HeaderLength - NameLength, cut.Payload.Length);
            Assert.True(big.AsSpan(0, cut.Payload.Length).SequenceEqual(cut.Payload));
            Assert.Equal(client.LocalEndPoint, ParseSockaddrIn(cut.Name));
            Assert.True(truncated.HasMore);

            Assert.Equal(HeaderLength + NameLength, empty.Result);
            Assert.True(IoUringRecvMessage.TryParse(buffers.Get(empty.BufferId, empty.Result), NameLength, 0, out IoUringRecvMessage nothing));
            Assert.False(nothing.IsTruncated);
            Assert.Equal(0u, nothing.PayloadLength);
            Assert.Equal(0, nothing.Payload.Length);
            Assert.True(empty.HasBuffer);

            // Linux (6.18 at least) ends a multishot RECVMSG on a zero-length datagram (sock_recvmsg returned 0,
            // as for end of stream): the completion is a valid datagram but lacks F_MORE. The rule for the
            // backend is the same either way: no F_MORE, re-arm; nothing is lost.
            output.WriteLine($"empty datagram: {empty} (F_MORE {(empty.HasMore ? "kept" : "dropped: re-armed")})");
            if (!empty.HasMore)
            {
                IoUringPrep.RecvMsgMultishot(ref ring.GetSqe(), Fd(server), receiveHeader, Group, RecvTag);
            }

            client.SendTo("after"u8, server.LocalEndPoint!);
            IoUringCompletion after = Assert.Single(Collect(ring, 1));
            Assert.True(after.HasMore);
            Assert.True(IoUringRecvMessage.TryParse(buffers.Get(after.BufferId, after.Result), NameLength, 0, out IoUringRecvMessage next));
            Assert.Equal("after", Encoding.ASCII.GetString(next.Payload));
        }
        finally
        {
            NativeMemory.Free(receiveHeader);
        }
    }

    [Fact]
    public void RecvMessageParser_RejectsBuffersTooShortForTheReservedAreas()
    {
        byte[] buffer = new byte[40];
        Assert.False(IoUringRecvMessage.TryParse(buffer.AsSpan(0, 15), 0, 0, out _));
        Assert.False(IoUringRecvMessage.TryParse(buffer, 16, 16, out _));
        Assert.False(IoUringRecvMessage.TryParse(buffer, -1, 0, out _));
        Assert.True(IoUringRecvMessage.TryParse(buffer, 16, 8, out IoUringRecvMessage message));
        Assert.Equal(0, message.Payload.Length);
    }

    // One native block: msghdr, iovec, sockaddr copy, payload; all valid until the SENDMSG completes.
    private static byte* AllocateReply(byte[] name, byte[] payload, out Libc.msghdr* header)
    {
        int size = sizeof(Libc.msghdr) + sizeof(Libc.iovec) + name.Length + payload.Length;
        byte* block = (byte*)NativeMemory.AllocZeroed((nuint)size);
        header = (Libc.msghdr*)block;
        var iov = (Libc.iovec*)(block + sizeof(Libc.msghdr));
        byte* address = (byte*)(iov + 1);
        byte* data = address + name.Length;
        name.CopyTo(new Span<byte>(address, name.Length));
        payload.CopyTo(new Span<byte>(data, payload.Length));
        iov->iov_base = data;
        iov->iov_len = (nuint)payload.Length;
        header->msg_name = address;
        header->msg_namelen = (uint)name.Length;
        header->msg_iov = iov;
        header->msg_iovlen = 1;
        return block;
    }

    private static string ReceiveText(Socket client, IPEndPoint expectedSender)
    {
        byte[] buffer = new byte[64];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        int n = client.ReceiveFrom(buffer, ref from);
        Assert.Equal(expectedSender, from);
        return Encoding.ASCII.GetString(buffer, 0, n);
    }
}
