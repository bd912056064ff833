using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using EventIO.Interop;

namespace EventIO.Polling;

/// <summary>Level-triggered epoll(7): O(ready) per wait, any number of descriptors.</summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe class EpollPoller : IPoller
{
    // glibc packs struct epoll_event on x86-64 only (sys/epoll.h, __EPOLL_PACKED).
    private static readonly bool s_packed = RuntimeInformation.ProcessArchitecture == Architecture.X64;
    private static readonly int s_eventSize = s_packed ? sizeof(Libc.epoll_event_packed) : sizeof(Libc.epoll_event_aligned);
    private static readonly int s_dataOffset = s_packed ? 4 : 8;

    private readonly FileDescriptorHandle _epoll;
    private readonly int _capacity;
    private byte* _events;

    /// <summary>Creates an epoll instance whose waits return at most <paramref name="capacity"/> events.</summary>
    internal EpollPoller(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        int fd = Libc.epoll_create1(Libc.EPOLL_CLOEXEC);
        if (fd < 0)
        {
            Libc.Throw("epoll_create1", Libc.LastErrno);
        }

        _epoll = new FileDescriptorHandle(fd);
        _capacity = capacity;
        _events = (byte*)NativeMemory.AllocZeroed((nuint)(capacity * s_eventSize));
    }

    /// <inheritdoc/>
    public string Name => "epoll";

    /// <inheritdoc/>
    public void Add(int fd, Interest interest, ulong token)
    {
        if (interest == Interest.None)
        {
            return; // epoll can watch any descriptor; nothing to tell the kernel yet
        }

        int errno = Control(Libc.EPOLL_CTL_ADD, fd, interest, token);
        if (errno == Libc.EEXIST)
        {
            // The kernel still holds a registration for this number (its previous owner closed a
            // dup'ed description or was evicted without a DEL): take it over.
            errno = Control(Libc.EPOLL_CTL_MOD, fd, interest, token);
        }

        ThrowOnError("epoll_ctl", errno);
    }

    /// <inheritdoc/>
    public void Modify(int fd, Interest interest, ulong token)
        => ThrowOnError("epoll_ctl(MOD)", Control(Libc.EPOLL_CTL_MOD, fd, interest, token));

    /// <inheritdoc/>
    public void Remove(int fd)
    {
        int errno = Control(Libc.EPOLL_CTL_DEL, fd, Interest.None, 0);
        // EBADF/ENOENT: already closed, or the kernel dropped it on close; either way it is gone.
        if (errno is not (0 or Libc.EBADF or Libc.ENOENT))
        {
            Libc.Throw("epoll_ctl(DEL)", errno);
        }
    }

    /// <inheritdoc/>
    public int Wait(Span<ReadyEvent> events, int timeoutMs)
    {
        int max = Math.Min(events.Length, _capacity);
        int n = Libc.epoll_wait(_epoll.Descriptor, _events, max, timeoutMs);
        if (n < 0)
        {
            int errno = Libc.LastErrno;
            if (errno == Libc.EINTR)
            {
                return 0;
            }

            Libc.Throw("epoll_wait", errno);
        }

        byte* p = _events;
        for (int i = 0; i < n; i++, p += s_eventSize)
        {
            uint flags = Unsafe.ReadUnaligned<uint>(p);
            ulong token = Unsafe.ReadUnaligned<ulong>(p + s_dataOffset);
            events[i] = new ReadyEvent(token, ToInterest(flags), (flags & (Libc.EPOLLERR | Libc.EPOLLHUP)) != 0);
        }

        return n;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _epoll.Dispose();
        if (_events != null)
        {
            NativeMemory.Free(_events);
            _events = null;
        }
    }

    // Returns 0 or the errno.
    private int Control(int op, int fd, Interest interest, ulong token)
    {
        byte* ev = stackalloc byte[16];
        Unsafe.WriteUnaligned(ev, ToFlags(interest));
        Unsafe.WriteUnaligned(ev + s_dataOffset, token);
        return Libc.epoll_ctl(_epoll.Descriptor, op, fd, ev) == 0 ? 0 : Libc.LastErrno;
    }

    // The one Interest <-> epoll flags mapping, both ways.
    private static uint ToFlags(Interest interest)
        => ((interest & Interest.Readable) != 0 ? Libc.EPOLLIN : 0) | ((interest & Interest.Writable) != 0 ? Libc.EPOLLOUT : 0);

    private static Interest ToInterest(uint flags)
        => ((flags & Libc.EPOLLIN) != 0 ? Interest.Readable : Interest.None) | ((flags & Libc.EPOLLOUT) != 0 ? Interest.Writable : Interest.None);

    private static void ThrowOnError(string call, int errno)
    {
        if (errno != 0)
        {
            Libc.Throw(call, errno);
        }
    }
}
