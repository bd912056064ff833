using System.Net;
using System.Net.Sockets;
using System.Text;
using EventIO.Polling;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Servers;

/// <summary>End-to-end tests of <see cref="UdpEchoServer"/> on real loopback sockets.</summary>
public sealed class UdpEchoServerTests
{
    public static TheoryData<PollerBackend> Backends => ServerTestSupport.AllBackends;

    [Theory]
    [MemberData(nameof(Backends))]
    public void Echo_RoundTrips_OnEveryBackend(PollerBackend backend)
    {
        using var loopThread = new LoopThread(backend);
        UdpEchoServer server = ServerTestSupport.StartUdpEcho(loopThread);
        using Socket client = Loopback.UdpClient();

        Assert.Equal("Hello", Encoding.ASCII.GetString(ServerTestSupport.Exchange(client, server.LocalEndPoint, "Hello"u8)));
        Assert.Empty(ServerTestSupport.Exchange(client, server.LocalEndPoint, []));
        byte[] data = ServerTestSupport.RandomBytes(1000, 1);
        Assert.Equal(data, ServerTestSupport.Exchange(client, server.LocalEndPoint, data));

        Assert.Equal(3, loopThread.Invoke(() => server.RepliesSent));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(8192)]
    [InlineData(65507)] // the largest UDP payload over IPv4
    public void Echo_ReturnsTheDatagramByteForByte(int size)
    {
        using var loopThread = new LoopThread();
        UdpEchoServer server = ServerTestSupport.StartUdpEcho(loopThread);
        using Socket client = Loopback.UdpClient();
        byte[] data = ServerTestSupport.RandomBytes(size, size);

        byte[] reply = ServerTestSupport.Exchange(client, server.LocalEndPoint, data);

        ServerTestSupport.AssertSameBytes(data, reply);
    }

    [Fact]
    public async Task ManyClientsAtOnce_EachGetsOnlyItsOwnData()
    {
        const int Clients = 24;
        const int RequestsPerClient = 40;
        using var loopThread = new LoopThread();
        UdpEchoServer server = ServerTestSupport.StartUdpEcho(loopThread);
        using var cts = new CancellationTokenSource(ServerTestSupport.BulkDeadline);

        Task[] clients = Enumerable.Range(0, Clients)
            .Select(id => Task.Run(() => RunClientAsync(server.LocalEndPoint, id, RequestsPerClient, cts.Token)))
            .ToArray();
        await Task.WhenAll(clients).WaitAsync(ServerTestSupport.BulkDeadline);

        (long received, long sent) = loopThread.Invoke(() => (server.DatagramsReceived, server.RepliesSent));
        Assert.Equal(Clients * RequestsPerClient, received);
        Assert.Equal(Clients * RequestsPerClient, sent);
    }

    [Fact]
    public void ClientPortClosedBeforeTheReply_ServerKeepsServingOthers()
    {
        using var loopThread = new LoopThread();
        UdpEchoServer server = ServerTestSupport.StartUdpEcho(loopThread);
        const int Gone = 5;

        // Hold the loop so that every sender has closed its port before the server replies to it.
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        Assert.True(loopThread.Loop.Post(() =>
        {
            entered.Set();
            release.Wait(TestTimeouts.Passing);
        }));
        try
        {
            Assert.True(entered.Wait(TestTimeouts.Passing), "The loop did not run the blocking action.");
            for (int i = 0; i < Gone; i++)
            {
                using Socket vanishing = Loopback.UdpClient();
                vanishing.SendTo(Encoding.ASCII.GetBytes($"to a closed port {i}"), SocketFlags.None, server.LocalEndPoint);
            }
        }
        finally
        {
            release.Set();
        }

        // Every reply went to a closed port (ICMP port unreachable comes back to the server).
        Eventually.True(() => loopThread.Invoke(() => server.RepliesSent + server.RepliesDropped) == Gone);

        using Socket client = Loopback.UdpClient();
        for (int i = 0; i < 3; i++)
        {
            byte[] data = Encoding.ASCII.GetBytes($"still here {i}");
            Assert.Equal(data, ServerTestSupport.Exchange(client, server.LocalEndPoint, data));
        }

        Assert.False(loopThread.Invoke(() => server.IsClosed));
        Assert.Equal(Gone + 3, loopThread.Invoke(() => server.DatagramsReceived));
        Assert.Null(loopThread.Failure);
    }

    private static async Task RunClientAsync(IPEndPoint server, int id, int requests, CancellationToken cancellationToken)
    {
        using Socket socket = Loopback.UdpClient();
        var buffer = new byte[65536];
        var random = new Random(id);
        for (int i = 0; i < requests; i++)
        {
            // A header naming the client and request, then a random-length random tail.
            byte[] tail = new byte[random.Next(0, 1500)];
            random.NextBytes(tail);
            byte[] request = [.. Encoding.ASCII.GetBytes($"client {id} request {i}|"), .. tail];

            await socket.SendToAsync(request, SocketFlags.None, server, cancellationToken);
            SocketReceiveFromResult result = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cancellationToken);

            Assert.Equal(server, result.RemoteEndPoint);
            ServerTestSupport.AssertSameBytes(request, buffer.AsSpan(0, result.ReceivedBytes));
        }
    }
}
