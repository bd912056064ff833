using System.Net;
using System.Runtime.Versioning;
using EventIO.Net;

namespace EventIO.Servers;

/// <summary>The recipe's <c>UDPEchoServer</c>: sends every datagram back to its sender. Allocates nothing per datagram.</summary>
[SupportedOSPlatform("linux")]
public sealed class UdpEchoServer : UdpServer
{
    /// <summary>Binds <paramref name="endPoint"/>; add the server to a loop to start.</summary>
    public UdpEchoServer(IPEndPoint endPoint, UdpServerOptions? options = null)
        : base(endPoint, options)
    {
    }

    /// <inheritdoc/>
    protected override void OnDatagram(ReadOnlySpan<byte> datagram, SocketAddress remote) => SendTo(datagram, remote);
}
