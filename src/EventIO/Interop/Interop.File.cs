using System.Runtime.InteropServices;

namespace EventIO.Interop;

internal static partial class Libc
{
    internal const int O_RDONLY = 0;
    internal const int O_CLOEXEC = 0x80000;

    [LibraryImport(Name, SetLastError = true)]
    internal static partial int close(int fd);

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial nint read(int fd, void* buf, nuint count);

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial nint write(int fd, void* buf, nuint count);

    [LibraryImport(Name, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int open(string path, int flags);
}
