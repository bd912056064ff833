using System.Runtime.InteropServices;

namespace EventIO.Interop;

/// <summary>
/// Owns one file descriptor that EventIO opened itself (the epoll instance, the eventfd) and
/// closes it exactly once when disposed or finalized.
/// </summary>
internal sealed class FileDescriptorHandle : SafeHandle
{
    /// <summary>Takes ownership of <paramref name="fd"/>.</summary>
    internal FileDescriptorHandle(int fd)
        : base(invalidHandleValue: -1, ownsHandle: true)
        => SetHandle(fd);

    /// <summary>Opens /dev/null read-only: a descriptor held in reserve. Null when the process has none left.</summary>
    internal static FileDescriptorHandle? TryOpenDevNull()
    {
        int fd = Libc.open("/dev/null", Libc.O_RDONLY | Libc.O_CLOEXEC);
        return fd < 0 ? null : new FileDescriptorHandle(fd);
    }

    /// <inheritdoc/>
    public override bool IsInvalid => handle == -1;

    /// <summary>The descriptor number; valid while the handle is not closed.</summary>
    internal int Descriptor => (int)handle;

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => Libc.close((int)handle) == 0;
}
