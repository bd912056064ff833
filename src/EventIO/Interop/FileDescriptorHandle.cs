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

    /// <inheritdoc/>
    public override bool IsInvalid => handle == -1;

    /// <summary>The descriptor number; valid while the handle is not closed.</summary>
    internal int Descriptor => (int)handle;

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => Libc.close((int)handle) == 0;
}
