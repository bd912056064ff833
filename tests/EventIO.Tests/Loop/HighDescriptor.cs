using System.Runtime.InteropServices;

namespace EventIO.Tests.Loop;

/// <summary>
/// Duplicates a descriptor to a number at or above a minimum with fcntl(F_DUPFD_CLOEXEC): one extra
/// descriptor, without filling the table below it (which would disturb tests running in parallel).
/// </summary>
internal static class HighDescriptor
{
    private const int FDupFdCloexec = 1030; // F_DUPFD_CLOEXEC on Linux

    /// <summary>Returns an owned duplicate of <paramref name="handle"/> numbered at least <paramref name="minimum"/>.</summary>
    public static SafeHandle Duplicate(SafeHandle handle, int minimum)
    {
        ArgumentNullException.ThrowIfNull(handle);
        int fd = NativeMethods.fcntl((int)handle.DangerousGetHandle(), FDupFdCloexec, minimum);
        if (fd < 0)
        {
            throw new InvalidOperationException($"fcntl(F_DUPFD_CLOEXEC, {minimum}) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return new OwnedDescriptor(fd);
    }

    private sealed class OwnedDescriptor : SafeHandle
    {
        public OwnedDescriptor(int fd)
            : base(invalidHandleValue: -1, ownsHandle: true)
            => SetHandle(fd);

        public override bool IsInvalid => handle == -1;

        protected override bool ReleaseHandle() => NativeMethods.close((int)handle) == 0;
    }

    private static class NativeMethods
    {
#pragma warning disable SYSLIB1054 // LibraryImport needs AllowUnsafeBlocks in the test project; these signatures are blittable.
        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int fcntl(int fd, int cmd, int arg);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int close(int fd);
#pragma warning restore SYSLIB1054
    }
}
