using System.Runtime.InteropServices;

namespace EventIO.Interop;

internal static partial class Libc
{
    /// <summary>recvmsg flag: the datagram was longer than the buffer and was cut.</summary>
    internal const int MSG_TRUNC = 0x20;

    /// <summary><c>struct iovec</c> (16 bytes on 64-bit Linux).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct iovec
    {
        internal void* iov_base;
        internal nuint iov_len;
    }

    /// <summary><c>struct msghdr</c> as glibc declares it on 64-bit Linux (56 bytes; size_t lengths).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct msghdr
    {
        internal void* msg_name;
        internal uint msg_namelen;
        internal iovec* msg_iov;
        internal nuint msg_iovlen;
        internal void* msg_control;
        internal nuint msg_controllen;
        internal int msg_flags;
    }

    /// <summary><c>struct mmsghdr</c>: a msghdr and the byte count the kernel fills in (64 bytes on 64-bit Linux).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct mmsghdr
    {
        internal msghdr msg_hdr;
        internal uint msg_len;
    }

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial int recvmmsg(int fd, mmsghdr* msgvec, uint vlen, int flags, void* timeout);

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial int sendmmsg(int fd, mmsghdr* msgvec, uint vlen, int flags);
}
