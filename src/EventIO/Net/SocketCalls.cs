using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using EventIO.Interop;

namespace EventIO.Net;

/// <summary>
/// Non-blocking socket calls for handlers, straight to libc: "would block" and socket errors come back
/// as a <see cref="SocketError"/> value (<see cref="SocketError.WouldBlock"/> when there is nothing to do
/// now), never as exceptions; an interrupted call (EINTR) is retried. The building blocks use exactly
/// these; a handler of your own gets the same fast path.
/// </summary>
/// <remarks>
/// <para><b>Why not <c>Socket.Receive(Span, SocketFlags, out SocketError)</c>:</b> it does the same through
/// the runtime's System.Native shim with more bookkeeping per call, which an echo's hot path (one receive
/// and one send per message) measures (bench/RESULTS.md).</para>
/// <para><b>Handles:</b> the handle is referenced for the duration of each call, so a socket closed by
/// another thread meanwhile fails cleanly (<see cref="ObjectDisposedException"/>) instead of reaching
/// whatever file reuses its number. Sends never raise SIGPIPE.</para>
/// </remarks>
public static class SocketCalls
{
    /// <summary>Receives into <paramref name="buffer"/>.</summary>
    /// <returns>Bytes received (0: the peer ended the stream), or -1 with <paramref name="error"/> set.</returns>
    public static int Receive(SafeHandle socket, Span<byte> buffer, out SocketError error)
    {
        ArgumentNullException.ThrowIfNull(socket);
        bool added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            return Result(SocketSyscalls.Receive((int)socket.DangerousGetHandle(), buffer), out error);
        }
        finally
        {
            Release(socket, added);
        }
    }

    /// <summary>Sends as much of <paramref name="data"/> as the socket takes now.</summary>
    /// <returns>Bytes sent (maybe fewer than given), or -1 with <paramref name="error"/> set (<see cref="SocketError.WouldBlock"/>: the send buffer is full).</returns>
    public static int Send(SafeHandle socket, ReadOnlySpan<byte> data, out SocketError error)
    {
        ArgumentNullException.ThrowIfNull(socket);
        bool added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            return Result(SocketSyscalls.Send((int)socket.DangerousGetHandle(), data), out error);
        }
        finally
        {
            Release(socket, added);
        }
    }

    /// <summary>
    /// Receives one datagram into <paramref name="buffer"/> (a longer one is truncated) and its sender into
    /// <paramref name="remote"/>, which must be large enough for the socket's address family.
    /// </summary>
    /// <returns>The datagram's length (0 is a valid empty datagram), or -1 with <paramref name="error"/> set.</returns>
    public static int ReceiveFrom(SafeHandle socket, Span<byte> buffer, SocketAddress remote, out SocketError error)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(remote);
        bool added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            return Result(SocketSyscalls.ReceiveFrom((int)socket.DangerousGetHandle(), buffer, remote), out error);
        }
        finally
        {
            Release(socket, added);
        }
    }

    /// <summary>Sends one datagram to <paramref name="remote"/>.</summary>
    /// <returns>Bytes sent, or -1 with <paramref name="error"/> set (<see cref="SocketError.WouldBlock"/>: the send buffer is full).</returns>
    public static int SendTo(SafeHandle socket, ReadOnlySpan<byte> datagram, SocketAddress remote, out SocketError error)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(remote);
        bool added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            return Result(SocketSyscalls.SendTo((int)socket.DangerousGetHandle(), datagram, remote), out error);
        }
        finally
        {
            Release(socket, added);
        }
    }

    /// <summary>
    /// Accepts one pending connection (<c>accept4</c>): its handle, already non-blocking and close-on-exec,
    /// owned by the caller. No <see cref="Socket"/> is made: reading a socket's properties back costs .NET
    /// seven system calls, more than the accept; wrap the handle in one only when you need it
    /// (<see cref="TcpConnection"/> does so on first use of its <c>Socket</c>).
    /// </summary>
    /// <returns>The connection's handle, or null with <paramref name="error"/> set (<see cref="SocketError.WouldBlock"/>: none pending).</returns>
    public static SafeSocketHandle? Accept(SafeHandle listener, out SocketError error)
    {
        ArgumentNullException.ThrowIfNull(listener);
        bool added = false;
        int fd;
        try
        {
            listener.DangerousAddRef(ref added);
            fd = SocketSyscalls.Accept((int)listener.DangerousGetHandle());
        }
        finally
        {
            Release(listener, added);
        }

        return Result(fd, out error) < 0 ? null : new SafeSocketHandle(fd, ownsHandle: true);
    }

    /// <summary>
    /// Closes a connection's handle the ordinary way (FIN after what was sent). Use it for a handle from
    /// <see cref="Accept"/> that no <see cref="Socket"/> owns: disposing such a <see cref="SafeSocketHandle"/>
    /// resets the connection (.NET closes an unowned socket handle abortively). Idempotent.
    /// </summary>
    public static void Close(SafeSocketHandle socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.IsClosed || socket.IsInvalid)
        {
            return;
        }

        int fd = (int)socket.DangerousGetHandle();
        socket.SetHandleAsInvalid(); // the handle forgets the descriptor (no second close), keeping its number readable
        SocketSyscalls.Close(fd);
    }

    /// <summary>Sets or clears TCP_NODELAY (no Nagle delay for small writes) on a TCP socket.</summary>
    /// <returns>True, or false with <paramref name="error"/> set.</returns>
    public static bool SetNoDelay(SafeHandle socket, bool noDelay, out SocketError error)
    {
        ArgumentNullException.ThrowIfNull(socket);
        bool added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            return Result(SocketSyscalls.SetOption((int)socket.DangerousGetHandle(), Libc.IPPROTO_TCP, Libc.TCP_NODELAY, noDelay ? 1 : 0), out error) == 0;
        }
        finally
        {
            Release(socket, added);
        }
    }

    /// <summary>Shuts down one or both directions of a connected socket (<c>shutdown</c>): after <see cref="SocketShutdown.Send"/>, the peer reads end of stream once it has read everything sent.</summary>
    /// <returns>True, or false with <paramref name="error"/> set (<see cref="SocketError.NotConnected"/>: the peer is already gone).</returns>
    public static bool Shutdown(SafeHandle socket, SocketShutdown how, out SocketError error)
    {
        ArgumentNullException.ThrowIfNull(socket);
        bool added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            return Result(SocketSyscalls.Shutdown((int)socket.DangerousGetHandle(), (int)how), out error) == 0;
        }
        finally
        {
            Release(socket, added);
        }
    }

    private static int Result(int n, out SocketError error)
    {
        if (n >= 0)
        {
            error = SocketError.Success;
            return n;
        }

        error = Libc.ToSocketError(-n);
        return -1;
    }

    private static void Release(SafeHandle handle, bool added)
    {
        if (added)
        {
            handle.DangerousRelease();
        }
    }
}
