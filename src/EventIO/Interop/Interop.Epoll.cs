using System.Runtime.InteropServices;

namespace EventIO.Interop;

internal static partial class Libc
{
    internal const int EPOLL_CLOEXEC = 0x80000;
    internal const int EPOLL_CTL_ADD = 1;
    internal const int EPOLL_CTL_DEL = 2;
    internal const int EPOLL_CTL_MOD = 3;

    internal const uint EPOLLIN = 0x001;
    internal const uint EPOLLOUT = 0x004;
    internal const uint EPOLLERR = 0x008;
    internal const uint EPOLLHUP = 0x010;

    /// <summary>
    /// <c>struct epoll_event</c> as glibc declares it on x86-64: <c>__attribute__((packed))</c>,
    /// 12 bytes, the 64-bit data at offset 4. Every other architecture uses natural alignment.
    /// </summary>
    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    internal struct epoll_event_packed
    {
        internal uint events;
        internal ulong data;
    }

    /// <summary><c>struct epoll_event</c> with natural alignment (16 bytes, data at offset 8): arm64 and others.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct epoll_event_aligned
    {
        internal uint events;
        internal ulong data;
    }

    [LibraryImport(Name, SetLastError = true)]
    internal static partial int epoll_create1(int flags);

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial int epoll_ctl(int epfd, int op, int fd, void* ev);

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial int epoll_wait(int epfd, void* events, int maxevents, int timeout);
}
