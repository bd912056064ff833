using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
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
    internal const int EBUSY = 16;
    internal const int EEXIST = 17;
    internal const int EINVAL = 22;
    internal const int ENOSYS = 38;
    internal const int EBADR = 53;
    internal const int ETIME = 62;
    internal const int ENOBUFS = 105;
    internal const int EALREADY = 114;
    internal const int ECANCELED = 125;

    /// <summary>The errno of the last P/Invoke declared with SetLastError.</summary>
    internal static int LastErrno => Marshal.GetLastPInvokeError();

    /// <summary>Throws a <see cref="Win32Exception"/> carrying <paramref name="errno"/> and naming the call.</summary>
    [DoesNotReturn]
    internal static void Throw(string call, int errno)
        => throw new Win32Exception(errno, $"{call} failed: {new Win32Exception(errno).Message} (errno {errno})");
}
