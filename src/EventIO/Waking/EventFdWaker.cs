using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using EventIO.Interop;

namespace EventIO.Waking;

/// <summary>
/// Wakes a loop blocked in its poller from any thread: an eventfd counter, the modern form of the
/// recipe's <c>signal_done_sock</c>/<c>done_sock</c> socket pair. It is an ordinary handler of the loop
/// (as libuv's async watcher and mio's <c>Waker</c> token): readable when woken, drained when dispatched.
/// </summary>
/// <remarks><b>Threading:</b> <see cref="Wake"/> from any thread; the handler members on the loop thread.
/// Wake-ups coalesce: only the first <see cref="Wake"/> since the loop last drained writes the eventfd.</remarks>
[SupportedOSPlatform("linux")]
internal sealed unsafe class EventFdWaker : IEventHandler, IDisposable
{
    private readonly FileDescriptorHandle _fd;
    private int _pending; // 1 while a wake-up is written and not yet drained

    internal EventFdWaker()
    {
        int fd = Libc.eventfd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        if (fd < 0)
        {
            Libc.Throw("eventfd", Libc.LastErrno);
        }

        _fd = new FileDescriptorHandle(fd);
    }

    /// <inheritdoc/>
    public SafeHandle Handle => _fd;

    /// <inheritdoc/>
    public bool WantsToReceive => true;

    /// <inheritdoc/>
    public bool WantsToSend => false;

    /// <summary>Makes the eventfd readable unless a wake-up is already pending. Never blocks; does nothing once disposed.</summary>
    public void Wake()
    {
        if (Interlocked.Exchange(ref _pending, 1) != 0)
        {
            return;
        }

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

    /// <summary>
    /// Drains the counter (one read resets an eventfd), then clears the pending flag. In this order: a
    /// waker racing with us either saw the flag still set (its work was queued before our clear, so the
    /// loop sees it this turn or at its next timeout check) or writes again after the drain (a spurious
    /// wake-up at worst). Clearing first could let the drain swallow a write made in between and leave
    /// the flag set with nothing pending: every later wake-up would be skipped.
    /// </summary>
    public void HandleReceive()
    {
        ulong value;
        _ = Libc.read(_fd.Descriptor, &value, sizeof(ulong));
        Volatile.Write(ref _pending, 0);
    }

    /// <inheritdoc/>
    public void HandleSend()
    {
    }

    /// <inheritdoc/>
    public void Dispose() => _fd.Dispose();
}
