using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace EventIO.Interop;

internal static partial class Libc
{
    // Linux errno values (asm-generic/errno-base.h, errno.h); identical on x86-64 and arm64.
    internal const int ENOENT = 2;
    internal const int EINTR = 4;
    internal const int EBADF = 9;
    internal const int EAGAIN = 11;
    internal const int EEXIST = 17;

    /// <summary>The errno of the last P/Invoke declared with SetLastError.</summary>
    internal static int LastErrno => Marshal.GetLastPInvokeError();

    /// <summary>Throws a <see cref="Win32Exception"/> carrying <paramref name="errno"/> and naming the call.</summary>
    [DoesNotReturn]
    internal static void Throw(string call, int errno)
        => throw new Win32Exception(errno, $"{call} failed: {new Win32Exception(errno).Message} (errno {errno})");
}
