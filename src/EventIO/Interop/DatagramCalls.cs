using System.Net;
using System.Runtime.InteropServices;

namespace EventIO.Interop;

/// <summary>
/// Non-blocking <c>recvfrom</c>/<c>sendto</c> that report "would block" as a value, not an
/// exception. <see cref="System.Net.Sockets.Socket.ReceiveFrom(Span{byte}, System.Net.Sockets.SocketFlags, SocketAddress)"/>
/// throws on EAGAIN, which a server draining its socket hits on every wake-up.
/// </summary>
internal static class DatagramCalls
{
    /// <summary>
    /// Receives one datagram into <paramref name="buffer"/> and its sender into <paramref name="remote"/>
    /// (whose <see cref="SocketAddress.Size"/> is set to the real address length).
    /// </summary>
    /// <returns>The datagram length (0 is a valid empty datagram), or <c>-errno</c>.</returns>
    internal static unsafe int ReceiveFrom(SafeHandle socket, Span<byte> buffer, SocketAddress remote)
    {
        Span<byte> address = remote.Buffer.Span;
        uint addressLength = (uint)address.Length;
        int fd = (int)socket.DangerousGetHandle();
        nint n;
        fixed (byte* b = buffer)
        fixed (byte* a = address)
        {
            n = Libc.recvfrom(fd, b, (nuint)buffer.Length, Libc.MSG_DONTWAIT, a, &addressLength);
        }

        if (n < 0)
        {
            return -Libc.LastErrno;
        }

        remote.Size = (int)Math.Min(addressLength, (uint)address.Length);
        return (int)n;
    }

    /// <summary>Sends one datagram to <paramref name="remote"/> without blocking and without SIGPIPE.</summary>
    /// <returns>The bytes sent, or <c>-errno</c> (<c>-EAGAIN</c> when the socket buffer is full).</returns>
    internal static unsafe int SendTo(SafeHandle socket, ReadOnlySpan<byte> datagram, SocketAddress remote)
    {
        int fd = (int)socket.DangerousGetHandle();
        ReadOnlySpan<byte> address = remote.Buffer.Span[..remote.Size];
        nint n;
        fixed (byte* b = datagram)
        fixed (byte* a = address)
        {
            n = Libc.sendto(fd, b, (nuint)datagram.Length, Libc.MSG_DONTWAIT | Libc.MSG_NOSIGNAL, a, (uint)address.Length);
        }

        return n < 0 ? -Libc.LastErrno : (int)n;
    }
}
