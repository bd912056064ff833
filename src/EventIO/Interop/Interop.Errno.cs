using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace EventIO.Interop;

internal static partial class Libc
{
    // Linux errno values (asm-generic/errno-base.h, errno.h); identical on x86-64 and arm64.
    internal const int EPERM = 1;
    internal const int ENOENT = 2;
    internal const int EINTR = 4;
    internal const int EBADF = 9;
    internal const int EAGAIN = 11;
    internal const int ENOMEM = 12;
    internal const int EACCES = 13;
    internal const int EBUSY = 16;
    internal const int EEXIST = 17;
    internal const int EINVAL = 22;
    internal const int ENFILE = 23;
    internal const int EMFILE = 24;
    internal const int EPIPE = 32;
    internal const int ENOSYS = 38;
    internal const int EBADR = 53;
    internal const int ETIME = 62;
    internal const int EMSGSIZE = 90;
    internal const int EPROTO = 71;
    internal const int ENOPROTOOPT = 92;
    internal const int EOPNOTSUPP = 95;
    internal const int EADDRINUSE = 98;
    internal const int EADDRNOTAVAIL = 99;
    internal const int ENETDOWN = 100;
    internal const int ENETUNREACH = 101;
    internal const int ECONNABORTED = 103;
    internal const int ECONNRESET = 104;
    internal const int ENOBUFS = 105;
    internal const int ENOTCONN = 107;
    internal const int ETIMEDOUT = 110;
    internal const int ECONNREFUSED = 111;
    internal const int EHOSTUNREACH = 113;
    internal const int EALREADY = 114;
    internal const int ECANCELED = 125;

    /// <summary>The errno of the last P/Invoke declared with SetLastError.</summary>
    internal static int LastErrno => Marshal.GetLastPInvokeError();

    /// <summary>Throws a <see cref="Win32Exception"/> carrying <paramref name="errno"/> and naming the call.</summary>
    [DoesNotReturn]
    internal static void Throw(string call, int errno)
        => throw new Win32Exception(errno, $"{call} failed: {new Win32Exception(errno).Message} (errno {errno})");

    /// <summary>The <see cref="SocketError"/> that .NET reports for <paramref name="errno"/> (the common socket errors; others are <see cref="SocketError.SocketError"/>).</summary>
    internal static SocketError ToSocketError(int errno) => errno switch
    {
        0 => SocketError.Success,
        EAGAIN => SocketError.WouldBlock,
        EINTR => SocketError.Interrupted,
        ECONNRESET => SocketError.ConnectionReset,
        EPIPE => SocketError.Shutdown,
        ECONNREFUSED => SocketError.ConnectionRefused,
        ECONNABORTED or EPROTO => SocketError.ConnectionAborted,
        ENOTCONN => SocketError.NotConnected,
        ETIMEDOUT => SocketError.TimedOut,
        EMFILE or ENFILE => SocketError.TooManyOpenSockets,
        ENOBUFS or ENOMEM => SocketError.NoBufferSpaceAvailable,
        EMSGSIZE => SocketError.MessageSize,
        EHOSTUNREACH => SocketError.HostUnreachable,
        ENETUNREACH => SocketError.NetworkUnreachable,
        ENETDOWN => SocketError.NetworkDown,
        EACCES or EPERM => SocketError.AccessDenied,
        EADDRINUSE => SocketError.AddressAlreadyInUse,
        EADDRNOTAVAIL => SocketError.AddressNotAvailable,
        EBADF => SocketError.OperationAborted,
        EINVAL => SocketError.InvalidArgument,
        ENOPROTOOPT => SocketError.ProtocolOption,
        EOPNOTSUPP => SocketError.OperationNotSupported,
        _ => SocketError.SocketError,
    };
}
