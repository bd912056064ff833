using System.Net.Sockets;
using EventIO.Net;

namespace EventIO.Servers;

/// <summary>The recipe's <c>TCPEchoClient</c>: sends back every byte it receives, with back-pressure.</summary>
public sealed class TcpEchoConnection : TcpConnection
{
    /// <summary>Wraps an accepted socket.</summary>
    public TcpEchoConnection(EventLoop loop, Socket socket, TcpConnectionOptions? options = null)
        : base(loop, socket, options)
    {
    }

    /// <summary>A factory for <see cref="TcpServer"/> with the default connection options.</summary>
    public static TcpConnection Create(EventLoop loop, Socket socket) => new TcpEchoConnection(loop, socket);

    /// <inheritdoc/>
    protected override void OnReceived(ReadOnlySpan<byte> data) => Send(data);
}
