using System.Net.Sockets;
using EventIO.Net;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Servers;

namespace EventIO.Tests.Hostile;

/// <summary>
/// Hostile tests that move a lot of traffic or churn through thousands of sockets run alone, so that their
/// time bounds do not depend on what else the test run does at the same moment.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HostileHeavyDefinition
{
    public const string Name = "Hostile: heavy";
}

/// <summary>A connection factory that remembers every <see cref="TcpEchoConnection"/> it made (loop thread only).</summary>
internal sealed class ConnectionProbe
{
    private readonly List<TcpEchoConnection> _created = [];

    public Func<EventLoop, Socket, TcpConnection> Factory => (loop, socket) =>
    {
        var connection = new TcpEchoConnection(loop, socket);
        _created.Add(connection);
        return connection;
    };

    /// <summary>Waits until the server has made its <paramref name="index"/>th connection (0-based) and returns it.</summary>
    public TcpEchoConnection WaitFor(LoopThread loopThread, int index = 0)
    {
        Eventually.True(() => loopThread.Invoke(() => _created.Count > index), because: $"the server should accept connection #{index}");
        return loopThread.Invoke(() => _created[index]);
    }

    public int Count(LoopThread loopThread) => loopThread.Invoke(() => _created.Count);
}

/// <summary>
/// Holds the loop thread inside a posted action until disposed: whatever clients do meanwhile (connect and
/// reset, send and close their port) is waiting in the kernel when the loop next looks. The hold itself has
/// a deadline, so a test that forgets to release cannot hang the loop forever.
/// </summary>
internal sealed class LoopHold : IDisposable
{
    private readonly ManualResetEventSlim _held = new();
    private readonly ManualResetEventSlim _release = new();
    private readonly ManualResetEventSlim _done = new();

    public LoopHold(LoopThread loopThread)
    {
        Assert.True(loopThread.Loop.Post(() =>
        {
            _held.Set();
            _release.Wait(TestTimeouts.Passing);
            _done.Set();
        }));
        Assert.True(_held.Wait(TestTimeouts.Passing), "The loop did not run the hold in time.");
    }

    public void Dispose()
    {
        _release.Set();
        bool done = _done.Wait(TestTimeouts.Passing);
        _held.Dispose();
        _release.Dispose();
        _done.Dispose();
        Assert.True(done, "The loop did not leave the hold in time.");
    }
}

internal static class HostileSupport
{
    /// <summary>Closes <paramref name="socket"/> with a reset (SO_LINGER on, zero timeout) instead of a FIN.</summary>
    public static void Reset(Socket socket)
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Close();
    }

    /// <summary>
    /// The server is back to its resting state: no connection left, only the listener registered, the loop
    /// thread alive; and a brand-new client is served (a payload echoed byte for byte, then a clean end).
    /// </summary>
    public static void AssertRecoveredAndServing(LoopThread loopThread, TcpServer server, string context)
    {
        Eventually.True(() => loopThread.Invoke(() => server.ConnectionCount) == 0, ServerTestSupport.BulkDeadline, $"{context}: every connection should be closed");
        Assert.Equal(1, loopThread.Invoke(() => loopThread.Loop.HandlerCount));
        Assert.Null(loopThread.Failure);
        Assert.True(loopThread.Invoke(() => server.IsListening), $"{context}: the server stopped listening");

        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);
        byte[] data = ServerTestSupport.RandomBytes(50_000, 9);
        client.Send(data);
        ServerTestSupport.AssertSameBytes(data, Loopback.ReceiveExactly(client, data.Length));
        client.Shutdown(SocketShutdown.Send);
        ServerTestSupport.AssertEndOfStream(client);
        Assert.Null(loopThread.Failure);
    }

    /// <summary>Reads what a non-blocking socket has now into <paramref name="buffer"/>; 0 when it would block.</summary>
    public static int TryReceive(Socket nonBlocking, byte[] buffer)
    {
        int n = nonBlocking.Receive(buffer, 0, buffer.Length, SocketFlags.None, out SocketError error);
        if (error == SocketError.WouldBlock)
        {
            return 0;
        }

        Assert.Equal(SocketError.Success, error);
        Assert.True(n > 0, "The server ended the stream early.");
        return n;
    }

    /// <summary>Checks <paramref name="actual"/> against the endless stream repeating <paramref name="pattern"/>, from stream offset <paramref name="offset"/>.</summary>
    public static void AssertPattern(byte[] pattern, long offset, ReadOnlySpan<byte> actual)
    {
        for (int i = 0; i < actual.Length;)
        {
            int at = (int)((offset + i) % pattern.Length);
            int run = Math.Min(actual.Length - i, pattern.Length - at);
            int common = pattern.AsSpan(at, run).CommonPrefixLength(actual.Slice(i, run));
            if (common != run)
            {
                Assert.Fail($"The echo differs from what was sent at stream offset {offset + i + common}.");
            }

            i += run;
        }
    }

    /// <summary>Waits (at most 20 ms) until the socket can make progress; a bounded wait on a condition, not a sleep.</summary>
    public static void WaitForProgress(Socket socket, bool wantWrite)
    {
        List<Socket> read = [socket];
        List<Socket>? write = wantWrite ? [socket] : null;
        Socket.Select(read, write, null, TimeSpan.FromMilliseconds(20));
    }

    /// <summary>The kernel's count of UDP datagrams that arrived for a port nobody listens on (each answered with ICMP port unreachable).</summary>
    public static long UdpNoPorts() => ReadUdpCounter("NoPorts");

    /// <summary>The kernel's count of UDP datagrams dropped because a receive buffer was full.</summary>
    public static long UdpReceiveBufferErrors() => ReadUdpCounter("RcvbufErrors");

    private static long ReadUdpCounter(string name)
    {
        string[] lines = [.. File.ReadAllLines("/proc/net/snmp").Where(l => l.StartsWith("Udp:", StringComparison.Ordinal))];
        string[] names = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string[] values = lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(values[Array.IndexOf(names, name)], System.Globalization.CultureInfo.InvariantCulture);
    }
}
