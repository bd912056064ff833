using System.Net.Sockets;
using EventIO.Async;
using EventIO.Net;

namespace EventIO.Servers;

/// <summary>
/// The recipe's TCP echo written with <c>await</c>: one task per connection that receives and sends back
/// what it got. <c>eventio serve --api async</c> runs it; it passes the same tests as
/// <see cref="TcpEchoConnection"/> and, like it, allocates nothing per message.
/// </summary>
/// <remarks>
/// Awaiting every <see cref="AsyncTcpConnection.SendAsync"/> is the back-pressure: past the connection's high
/// watermark the send completes only once the peer has read down to the low one, and meanwhile the loop
/// stops reading this peer (its receive buffer fills). Each connection holds its <see cref="BufferSize"/>
/// buffer while it lives.
/// </remarks>
public static class AsyncTcpEcho
{
    /// <summary>The buffer each connection receives into (16 KiB, an outgoing segment).</summary>
    public const int BufferSize = 16 * 1024;

    /// <summary>A factory for <see cref="TcpServer"/>: each connection runs <see cref="EchoAsync"/> on its loop.</summary>
    public static Func<SafeSocketHandle, TcpConnection> Factory { get; } = AsyncTcpConnection.Factory(EchoAsync);

    /// <summary>
    /// Echoes until the peer ends its side; the connection then closes once the echo is flushed. A reset
    /// ends it with the <see cref="SocketException"/> the receive throws (the connection is already closed).
    /// </summary>
    public static async Task EchoAsync(AsyncTcpConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        byte[] buffer = new byte[BufferSize];
        int n;
        while ((n = await connection.ReceiveAsync(buffer)) > 0)
        {
            await connection.SendAsync(buffer.AsMemory(0, n));
        }
    }
}
