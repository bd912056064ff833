using System.Net.Sockets;
using EventIO.Net;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Servers;

namespace EventIO.Tests.Hostile;

/// <summary>Helpers shared by the hostile tests: resets, recovery checks, non-blocking I/O, kernel UDP counters.</summary>
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
