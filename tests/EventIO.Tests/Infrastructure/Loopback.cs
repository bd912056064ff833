using System.Net;
using System.Net.Sockets;

namespace EventIO.Tests.Infrastructure;

/// <summary>Loopback helpers: everything binds 127.0.0.1 port 0 and reads the real port back.</summary>
public static class Loopback
{
    /// <summary>127.0.0.1:0 — the OS picks a free port.</summary>
    public static IPEndPoint AnyPort => new(IPAddress.Loopback, 0);

    /// <summary>A UDP client socket bound to an ephemeral loopback port, with a receive timeout.</summary>
    public static Socket UdpClient()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(AnyPort);
        socket.ReceiveTimeout = (int)TestTimeouts.Passing.TotalMilliseconds;
        return socket;
    }

    /// <summary>Sends <paramref name="request"/> to <paramref name="server"/> and returns the reply as ASCII.</summary>
    public static string UdpRequest(Socket client, IPEndPoint server, ReadOnlySpan<byte> request)
    {
        client.SendTo(request, SocketFlags.None, server);
        var buffer = new byte[65536];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        int n = client.ReceiveFrom(buffer, ref from);
        return System.Text.Encoding.ASCII.GetString(buffer, 0, n);
    }

    /// <summary>A connected TCP client with send/receive timeouts.</summary>
    public static Socket TcpConnect(IPEndPoint server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            ReceiveTimeout = (int)TestTimeouts.Passing.TotalMilliseconds,
            SendTimeout = (int)TestTimeouts.Passing.TotalMilliseconds,
            NoDelay = true,
        };
        socket.Connect(server);
        return socket;
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes (or throws on EOF/timeout).</summary>
    public static byte[] ReceiveExactly(Socket socket, int count)
    {
        var data = new byte[count];
        int got = 0;
        while (got < count)
        {
            int n = socket.Receive(data, got, count - got, SocketFlags.None);
            if (n == 0)
            {
                throw new IOException($"Connection closed after {got} of {count} bytes.");
            }

            got += n;
        }

        return data;
    }
}
