using System.Net;

namespace EventIO.Interop;

/// <summary>
/// Non-blocking socket calls straight to libc, with "would block" and errors as values (<c>-errno</c>),
/// never exceptions; EINTR is retried. .NET's <c>Socket</c> throws on EAGAIN (or goes through the
/// runtime's System.Native shim with more bookkeeping per call); on an echo's hot path, one receive and
/// one send per message, that difference is measurable (bench/RESULTS.md).
/// </summary>
/// <remarks>The caller keeps the descriptor open for the duration of each call.</remarks>
internal static class SocketSyscalls
{
    /// <summary>Receives into <paramref name="buffer"/>: bytes received (0: the peer ended the stream), or -errno.</summary>
    internal static unsafe int Receive(int fd, Span<byte> buffer)
    {
        fixed (byte* b = buffer)
        {
            nint n;
            do
            {
                n = Libc.recv(fd, b, (nuint)buffer.Length, Libc.MSG_DONTWAIT);
            }
            while (n < 0 && Libc.LastErrno == Libc.EINTR);

            return n < 0 ? -Libc.LastErrno : (int)n;
        }
    }

    /// <summary>Sends as much of <paramref name="data"/> as the socket takes, without SIGPIPE: bytes sent, or -errno.</summary>
    internal static unsafe int Send(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* b = data)
        {
            nint n;
            do
            {
                n = Libc.send(fd, b, (nuint)data.Length, Libc.MSG_DONTWAIT | Libc.MSG_NOSIGNAL);
            }
            while (n < 0 && Libc.LastErrno == Libc.EINTR);

            return n < 0 ? -Libc.LastErrno : (int)n;
        }
    }

    /// <summary>
    /// Receives one datagram and its sender (<see cref="SocketAddress.Size"/> set to the real length):
    /// the datagram's length (0 is a valid empty datagram), or -errno.
    /// </summary>
    internal static unsafe int ReceiveFrom(int fd, Span<byte> buffer, SocketAddress remote)
    {
        Span<byte> address = remote.Buffer.Span;
        fixed (byte* b = buffer)
        fixed (byte* a = address)
        {
            nint n;
            uint length;
            do
            {
                length = (uint)address.Length;
                n = Libc.recvfrom(fd, b, (nuint)buffer.Length, Libc.MSG_DONTWAIT, a, &length);
            }
            while (n < 0 && Libc.LastErrno == Libc.EINTR);

            if (n < 0)
            {
                return -Libc.LastErrno;
            }

            remote.Size = (int)Math.Min(length, (uint)address.Length);
            return (int)n;
        }
    }

    /// <summary>Sends one datagram to <paramref name="remote"/> without SIGPIPE: bytes sent, or -errno.</summary>
    internal static unsafe int SendTo(int fd, ReadOnlySpan<byte> datagram, SocketAddress remote)
    {
        ReadOnlySpan<byte> address = remote.Buffer.Span[..remote.Size];
        fixed (byte* b = datagram)
        fixed (byte* a = address)
        {
            nint n;
            do
            {
                n = Libc.sendto(fd, b, (nuint)datagram.Length, Libc.MSG_DONTWAIT | Libc.MSG_NOSIGNAL, a, (uint)address.Length);
            }
            while (n < 0 && Libc.LastErrno == Libc.EINTR);

            return n < 0 ? -Libc.LastErrno : (int)n;
        }
    }

    /// <summary>Accepts one connection, already non-blocking and close-on-exec: its descriptor, or -errno.</summary>
    internal static unsafe int Accept(int fd)
    {
        int client;
        do
        {
            client = Libc.accept4(fd, null, null, Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC);
        }
        while (client < 0 && Libc.LastErrno == Libc.EINTR);

        return client < 0 ? -Libc.LastErrno : client;
    }

    /// <summary>The peer's address of a connected socket as a <see cref="Net.SourceAddress"/> key; false if it has none (gone already) or is not IP.</summary>
    internal static unsafe bool PeerKey(int fd, out UInt128 key)
    {
        byte* address = stackalloc byte[128]; // sockaddr_storage
        uint length = 128;
        if (Libc.getpeername(fd, address, &length) != 0)
        {
            key = default;
            return false;
        }

        return Net.SourceAddress.TryGetKey(new ReadOnlySpan<byte>(address, (int)Math.Min(length, 128u)), out key);
    }

    /// <summary>Shuts down one or both directions (0 read, 1 write, 2 both, as <c>SHUT_RD</c>..<c>SHUT_RDWR</c>): 0, or -errno.</summary>
    internal static int Shutdown(int fd, int how) => Libc.shutdown(fd, how) == 0 ? 0 : -Libc.LastErrno;

    /// <summary>Sets an integer socket option: 0, or -errno.</summary>
    internal static unsafe int SetOption(int fd, int level, int name, int value)
        => Libc.setsockopt(fd, level, name, &value, sizeof(int)) == 0 ? 0 : -Libc.LastErrno;

    /// <summary>Closes a descriptor (EINTR is not retried: Linux has released it either way).</summary>
    internal static void Close(int fd) => Libc.close(fd);

    /// <summary>Receives up to <paramref name="count"/> datagrams in one call (<c>recvmmsg</c>): how many, or -errno.</summary>
    internal static unsafe int ReceiveMany(int fd, Libc.mmsghdr* messages, int count)
    {
        int n;
        do
        {
            n = Libc.recvmmsg(fd, messages, (uint)count, Libc.MSG_DONTWAIT, null);
        }
        while (n < 0 && Libc.LastErrno == Libc.EINTR);

        return n < 0 ? -Libc.LastErrno : n;
    }

    /// <summary>
    /// Sends <paramref name="count"/> datagrams in one call (<c>sendmmsg</c>): how many went out from the
    /// first, or -errno when the first one failed.
    /// </summary>
    internal static unsafe int SendMany(int fd, Libc.mmsghdr* messages, int count)
    {
        int n;
        do
        {
            n = Libc.sendmmsg(fd, messages, (uint)count, Libc.MSG_DONTWAIT | Libc.MSG_NOSIGNAL);
        }
        while (n < 0 && Libc.LastErrno == Libc.EINTR);

        return n < 0 ? -Libc.LastErrno : n;
    }
}
