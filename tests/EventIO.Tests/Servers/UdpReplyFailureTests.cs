using System.Net;
using System.Net.Sockets;
using EventIO.Net;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Servers;

/// <summary>
/// A reply the kernel refuses (here: to the broadcast address without SO_BROADCAST, EACCES) is dropped and
/// counted in <see cref="UdpServer.RepliesDropped"/>; it neither throws nor stops the server.
/// </summary>
public sealed class UdpReplyFailureTests
{
    private static readonly SocketAddress s_broadcast = new IPEndPoint(IPAddress.Broadcast, 9).Serialize();

    // One datagram at a time SendTo knows at once that the kernel refused (false); in a batch the reply is
    // queued (true) and the refusal is counted when the batch is flushed. Either way it is counted exactly.
    [Theory]
    [InlineData(1, Requests)]
    [InlineData(32, 0)]
    public void RefusedReply_IsDroppedAndCounted_AndTheServerKeepsAnswering(int batchSize, int refusedAtOnce)
    {
        using var loopThread = new LoopThread();
        BroadcastingEcho server = ServerTestSupport.Start(loopThread, loop => new BroadcastingEcho(Loopback.AnyPort, new UdpServerOptions { BatchSize = batchSize }));
        using Socket client = Loopback.UdpClient();

        for (int i = 0; i < Requests; i++)
        {
            byte[] data = BitConverter.GetBytes(i);
            Assert.Equal(data, ServerTestSupport.Exchange(client, server.LocalEndPoint, data));
        }

        Assert.Equal(Requests, loopThread.Invoke(() => server.RepliesDropped));
        Assert.Equal(Requests, loopThread.Invoke(() => server.RepliesSent));
        Assert.Equal(refusedAtOnce, loopThread.Invoke(() => server.RefusedCalls));
        Assert.False(loopThread.Invoke(() => server.IsClosed));
        Assert.Null(loopThread.Failure);
    }

    // Echoes each datagram, after first trying to send a copy somewhere the kernel refuses.
    private const int Requests = 100;

    private sealed class BroadcastingEcho(IPEndPoint endPoint, UdpServerOptions options) : UdpServer(endPoint, options)
    {
        public int RefusedCalls { get; private set; }

        protected override void OnDatagram(ReadOnlySpan<byte> datagram, SocketAddress remote)
        {
            if (!SendTo(datagram, s_broadcast))
            {
                RefusedCalls++;
            }

            SendTo(datagram, remote);
        }
    }
}
