using System.Runtime.InteropServices;

namespace EventIO.Interop;

internal static partial class Libc
{
    internal const int MSG_DONTWAIT = 0x40;
    internal const int MSG_NOSIGNAL = 0x4000;
    internal const int SOCK_NONBLOCK = 0x800;
    internal const int SOCK_CLOEXEC = 0x80000;
    internal const int IPPROTO_TCP = 6;
    internal const int TCP_NODELAY = 1;

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial nint recv(int fd, byte* buf, nuint len, int flags);

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial nint send(int fd, byte* buf, nuint len, int flags);

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial nint recvfrom(int fd, byte* buf, nuint len, int flags, byte* addr, uint* addrlen);

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial nint sendto(int fd, byte* buf, nuint len, int flags, byte* addr, uint addrlen);

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial int accept4(int fd, byte* addr, uint* addrlen, int flags);

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial int getpeername(int fd, byte* addr, uint* addrlen);

    [LibraryImport(Name, SetLastError = true)]
    internal static partial int shutdown(int fd, int how);

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial int setsockopt(int fd, int level, int name, void* value, uint length);
}
