using System.Runtime.Versioning;
using EventIO.Interop;

namespace EventIO.Waking;

/// <summary>
/// Wakes a loop blocked in its poller from any thread: an eventfd counter, the modern form of the
/// recipe's <c>signal_done_sock</c>/<c>done_sock</c> socket pair (one descriptor, 8-byte writes).
/// </summary>
/// <remarks><b>Threading:</b> <see cref="Wake"/> from any thread; <see cref="Drain"/> on the loop thread.
/// Coalescing is the caller's job (the loop wakes only when no wake-up is pending).</remarks>
[SupportedOSPlatform("linux")]
internal sealed unsafe class EventFdWaker : IWaker
{
    private readonly FileDescriptorHandle _fd;

    internal EventFdWaker()
    {
        int fd = Libc.eventfd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        if (fd < 0)
        {
            Libc.Throw("eventfd", Libc.LastErrno);
        }

        _fd = new FileDescriptorHandle(fd);
    }

    /// <summary>The descriptor the poller watches for readability.</summary>
    public int Descriptor => _fd.Descriptor;

    /// <summary>Makes the descriptor readable. Never blocks; a saturated counter is already readable.</summary>
    public void Wake()
    {
        ulong one = 1;
        bool added = false;
        try
        {
            _fd.DangerousAddRef(ref added);
            _ = Libc.write(_fd.Descriptor, &one, sizeof(ulong));
        }
        catch (ObjectDisposedException)
        {
            // The loop is gone; there is nobody to wake.
        }
        finally
        {
            if (added)
            {
                _fd.DangerousRelease();
            }
        }
    }

    /// <summary>Resets the counter to zero (one read drains an eventfd); EAGAIN means nothing was pending.</summary>
    public void Drain()
    {
        ulong value;
        _ = Libc.read(_fd.Descriptor, &value, sizeof(ulong));
    }

    /// <inheritdoc/>
    public void Dispose() => _fd.Dispose();
}
