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
    /// Accepts one pending connection (<c>accept4</c>): the new socket is already non-blocking and
    /// close-on-exec, and owned by the caller.
    /// </summary>
    /// <returns>The connection, or null with <paramref name="error"/> set (<see cref="SocketError.WouldBlock"/>: none pending).</returns>
    public static Socket? Accept(SafeHandle listener, out SocketError error)
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

        if (Result(fd, out error) < 0)
        {
            return null;
        }

        var handle = new SafeSocketHandle(fd, ownsHandle: true);
        try
        {
            return new Socket(handle);
        }
        catch (SocketException ex)
        {
            // Reading the new socket's properties failed (the peer is already gone, say): as a failed accept.
            handle.Dispose();
            error = ex.SocketErrorCode;
            return null;
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
