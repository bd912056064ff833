using System.Net;
using System.Net.Sockets;
using EventIO.Net;
using EventIO.Polling;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Servers;

/// <summary>Shared helpers of the end-to-end server tests: starting servers on a loop thread, payloads, socket I/O.</summary>
internal static class ServerTestSupport
{
    /// <summary>Every backend: the basic echo tests run on each.</summary>
    public static TheoryData<PollerBackend> AllBackends => new() { PollerBackend.Default, PollerBackend.Poll, PollerBackend.Select, PollerBackend.IoUring };

    /// <summary>A generous deadline for the tests that move many megabytes or many clients.</summary>
    public static TimeSpan BulkDeadline => TestTimeouts.Scale(TimeSpan.FromSeconds(30));

    /// <summary>Creates a handler on the loop thread, adds it to the loop and returns it.</summary>
    public static T Start<T>(LoopThread loopThread, Func<EventLoop, T> create)
        where T : IEventHandler
        => loopThread.Invoke(() =>
        {
            T handler = create(loopThread.Loop);
            loopThread.Loop.Add(handler);
            return handler;
        });

    /// <summary>
    /// A TCP echo server on 127.0.0.1:0, with the given connection factory (default: <see cref="TcpEchoConnection.Create"/>).
    /// With several loops, one acceptor on the first hands connections to every loop in turn.
    /// </summary>
    public static TcpServer StartTcpEcho(LoopThread loopThread, Func<SafeSocketHandle, TcpConnection>? factory = null, TcpServerOptions? options = null)
    {
        options ??= new TcpServerOptions();
        if (loopThread.Loops.Count > 1)
        {
            options = new TcpServerOptions
            {
                Backlog = options.Backlog,
                AcceptBatch = options.AcceptBatch,
                NoDelay = options.NoDelay,
                AcceptRetryDelay = options.AcceptRetryDelay,
                MaxConnections = options.MaxConnections,
                MaxConnectionsPerAddress = options.MaxConnectionsPerAddress,
                IdleTimeout = options.IdleTimeout,
                ChildLoops = loopThread.Loops,
            };
        }

        return Start(loopThread, _ => new TcpServer(Loopback.AnyPort, factory ?? TcpEchoConnection.Create, options));
    }

    /// <summary>A UDP echo server on 127.0.0.1:0.</summary>
    public static UdpEchoServer StartUdpEcho(LoopThread loopThread, UdpServerOptions? options = null)
        => Start(loopThread, loop => new UdpEchoServer(Loopback.AnyPort, options));

    /// <summary>Deterministic pseudo-random bytes.</summary>
    public static byte[] RandomBytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>A TCP client socket (not yet connected) with deadlines on blocking calls.</summary>
    public static Socket NewTcpClient() => new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
    {
        ReceiveTimeout = (int)TestTimeouts.Passing.TotalMilliseconds,
        SendTimeout = (int)TestTimeouts.Passing.TotalMilliseconds,
        NoDelay = true,
    };

    /// <summary>Receives one datagram (blocking, with the socket's receive timeout) and returns it with its sender.</summary>
    public static byte[] ReceiveDatagram(Socket client, out IPEndPoint from)
    {
        var buffer = new byte[65536];
        EndPoint remote = new IPEndPoint(IPAddress.Any, 0);
        int n = client.ReceiveFrom(buffer, ref remote);
        from = (IPEndPoint)remote;
        return buffer.AsSpan(0, n).ToArray();
    }

    /// <summary>Receives one datagram as ASCII, asserting it came from <paramref name="server"/>.</summary>
    public static string ReceiveAscii(Socket client, IPEndPoint server)
    {
        byte[] reply = ReceiveDatagram(client, out IPEndPoint from);
        Assert.Equal(server, from);
        return System.Text.Encoding.ASCII.GetString(reply);
    }

    /// <summary>Sends <paramref name="request"/> and returns the reply, asserting it came from <paramref name="server"/>.</summary>
    public static byte[] Exchange(Socket client, IPEndPoint server, ReadOnlySpan<byte> request)
    {
        client.SendTo(request, SocketFlags.None, server);
        byte[] reply = ReceiveDatagram(client, out IPEndPoint from);
        Assert.Equal(server, from);
        return reply;
    }

    /// <summary>Sends all of <paramref name="data"/> asynchronously.</summary>
    public static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            int n = await socket.SendAsync(data, SocketFlags.None, cancellationToken);
            data = data[n..];
        }
    }

    /// <summary>Fills <paramref name="destination"/> from the socket, failing on a premature end of stream.</summary>
    public static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> destination, CancellationToken cancellationToken)
    {
        int total = destination.Length;
        while (!destination.IsEmpty)
        {
            int n = await socket.ReceiveAsync(destination, SocketFlags.None, cancellationToken);
            if (n == 0)
            {
                throw new IOException($"Connection closed after {total - destination.Length} of {total} bytes.");
            }

            destination = destination[n..];
        }
    }

    /// <summary>Asserts a blocking socket reads end of stream next (0 bytes, within its receive timeout).</summary>
    public static void AssertEndOfStream(Socket socket)
    {
        var one = new byte[1];
        Assert.Equal(0, socket.Receive(one));
    }

    /// <summary>Asserts two byte sequences are equal, reporting the first difference instead of dumping megabytes.</summary>
    public static void AssertSameBytes(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        int common = expected.CommonPrefixLength(actual);
        if (common != expected.Length)
        {
            Assert.Fail($"The bytes differ first at offset {common}: expected 0x{expected[common]:X2}, got 0x{actual[common]:X2}.");
        }
    }

    /// <summary>
    /// Sends as much of <paramref name="data"/> from <paramref name="offset"/> as a non-blocking socket takes now.
    /// Returns the bytes sent (0 when the socket would block).
    /// </summary>
    public static int TrySend(Socket nonBlocking, byte[] data, long offset)
    {
        int start = (int)(offset % data.Length);
        int n = nonBlocking.Send(data, start, data.Length - start, SocketFlags.None, out SocketError error);
        if (error == SocketError.WouldBlock)
        {
            return 0;
        }

        Assert.Equal(SocketError.Success, error);
        return n;
    }

    /// <summary>
    /// Reads exactly <paramref name="count"/> bytes from a blocking socket and checks each against the endless
    /// stream that repeats <paramref name="pattern"/>, starting at stream offset 0.
    /// </summary>
    public static void ReceivePattern(Socket socket, byte[] pattern, long count)
    {
        var buffer = new byte[64 * 1024];
        long received = 0;
        while (received < count)
        {
            int want = (int)Math.Min(buffer.Length, count - received);
            int n = socket.Receive(buffer, 0, want, SocketFlags.None);
            if (n == 0)
            {
                Assert.Fail($"Connection closed after {received} of {count} bytes.");
            }

            for (int i = 0; i < n;)
            {
                int at = (int)((received + i) % pattern.Length);
                int run = Math.Min(n - i, pattern.Length - at);
                ReadOnlySpan<byte> expected = pattern.AsSpan(at, run);
                ReadOnlySpan<byte> actual = buffer.AsSpan(i, run);
                int common = expected.CommonPrefixLength(actual);
                if (common != run)
                {
                    Assert.Fail($"Echoed stream differs at offset {received + i + common}.");
                }

                i += run;
            }

            received += n;
        }
    }
}
