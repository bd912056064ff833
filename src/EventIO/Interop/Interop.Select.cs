using System.Runtime.InteropServices;

namespace EventIO.Interop;

internal static partial class Libc
{
    /// <summary>FD_SETSIZE in glibc: an fd_set holds descriptors 0..1023 and no others.</summary>
    internal const int FD_SETSIZE = 1024;

    /// <summary><c>fd_set</c>: a bitmap of <see cref="FD_SETSIZE"/> bits, 16 64-bit words.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct fd_set
    {
        internal fixed ulong fds_bits[FD_SETSIZE / 64];
    }

    /// <summary><c>struct timeval</c> on 64-bit Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct timeval
    {
        internal long tv_sec;
        internal long tv_usec;
    }

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial int select(int nfds, fd_set* readfds, fd_set* writefds, fd_set* exceptfds, timeval* timeout);
}
