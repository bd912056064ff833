using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EventIO.Cli;

/// <summary>
/// A connected UDP socket that sends one request and waits for one reply with a deadline, turning
/// timeouts and ICMP errors into <see cref="ClientException"/>s with a clear message.
/// </summary>
internal sealed class UdpExchange : IDisposable
{
    private readonly Socket _socket;
    private readonly IPEndPoint _server;
    private readonly double _timeoutSeconds;
    private readonly byte[] _buffer = new byte[65536];

    internal UdpExchange(IPEndPoint server, double timeoutSeconds)
    {
        _server = server;
        _timeoutSeconds = timeoutSeconds;
        _socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp)
        {
            ReceiveTimeout = (int)Math.Ceiling(timeoutSeconds * 1000),
        };
        try
        {
            _socket.Connect(server); // connected: ICMP "port unreachable" comes back as ECONNREFUSED
        }
        catch (SocketException ex)
        {
            _socket.Dispose();
            throw Describe(ex, "udp", server, timeoutSeconds);
        }
    }

    internal string Request(ReadOnlySpan<byte> payload)
    {
        try
        {
            _socket.Send(payload);
            int n = _socket.Receive(_buffer);
            return Encoding.UTF8.GetString(_buffer, 0, n);
        }
        catch (SocketException ex)
        {
            throw Describe(ex, "udp", _server, _timeoutSeconds);
        }
    }

    public void Dispose() => _socket.Dispose();

    internal static ClientException Describe(SocketException ex, string protocol, IPEndPoint server, double timeoutSeconds) => ex.SocketErrorCode switch
    {
        SocketError.TimedOut or SocketError.WouldBlock =>
            new ClientException($"no reply from {protocol} {server} within {timeoutSeconds:0.###} s (is `eventio serve` running?)", ex),
        SocketError.ConnectionRefused =>
            new ClientException($"connection refused by {protocol} {server}: nothing is listening there (start `eventio serve`)", ex),
        _ => new ClientException($"{protocol} {server}: {ex.Message}", ex),
    };
}
