using System.Runtime.InteropServices;

namespace EventIO.Interop;

/// <summary>
/// Non-blocking <c>recv</c>/<c>send</c> on a connected socket, straight to libc, with "would block" and
/// errors as values. <c>Socket.Receive(Span, SocketFlags, out SocketError)</c> does the same through the
/// runtime's System.Native shim with more bookkeeping per call; on the TCP echo hot path (one receive
/// and one send per message) that difference is measurable (bench/RESULTS.md).
/// </summary>
/// <remarks>The caller owns the socket and calls on the loop thread only, so the handle cannot be closed
/// during a call; no reference counting is needed.</remarks>
internal static class StreamCalls
{
    /// <summary>Receives into <paramref name="buffer"/>.</summary>
    /// <returns>Bytes received (0: the peer ended the stream), or <c>-errno</c> (<c>-EAGAIN</c>: nothing to read).</returns>
    internal static unsafe int Receive(SafeHandle socket, Span<byte> buffer)
    {
        int fd = (int)socket.DangerousGetHandle();
        nint n;
        fixed (byte* b = buffer)
        {
            n = Libc.recv(fd, b, (nuint)buffer.Length, Libc.MSG_DONTWAIT);
        }

        return n < 0 ? -Libc.LastErrno : (int)n;
    }

    /// <summary>Sends as much of <paramref name="data"/> as the socket takes, without blocking or SIGPIPE.</summary>
    /// <returns>Bytes sent, or <c>-errno</c> (<c>-EAGAIN</c>: the socket buffer is full).</returns>
    internal static unsafe int Send(SafeHandle socket, ReadOnlySpan<byte> data)
    {
        int fd = (int)socket.DangerousGetHandle();
        nint n;
        fixed (byte* b = data)
        {
            n = Libc.send(fd, b, (nuint)data.Length, Libc.MSG_DONTWAIT | Libc.MSG_NOSIGNAL);
        }

        return n < 0 ? -Libc.LastErrno : (int)n;
    }
}
