using System.Net.Sockets;
using System.Runtime.Versioning;
using EventIO.Net;

namespace EventIO.Servers;

/// <summary>The recipe's <c>TCPEchoClient</c>: sends back every byte it receives, with back-pressure.</summary>
[SupportedOSPlatform("linux")]
public sealed class TcpEchoConnection : TcpConnection
{
    /// <summary>Wraps an accepted connection's handle.</summary>
    public TcpEchoConnection(SafeSocketHandle socket, TcpConnectionOptions? options = null)
        : base(socket, options)
    {
    }

    /// <summary>Wraps a connected socket.</summary>
    public TcpEchoConnection(Socket socket, TcpConnectionOptions? options = null)
        : base(socket, options)
    {
    }

    /// <summary>A factory for <see cref="TcpServer"/> with the default connection options.</summary>
    public static TcpConnection Create(SafeSocketHandle socket) => new TcpEchoConnection(socket);

    /// <inheritdoc/>
    protected override void OnReceived(ReadOnlySpan<byte> data) => Send(data);
}
