using System.Runtime.InteropServices;

namespace EventIO.Interop;

internal static partial class Libc
{
    // sys/mman.h; identical on x86-64 and arm64 (asm-generic/mman-common.h, mman.h).
    internal const int PROT_READ = 0x1;
    internal const int PROT_WRITE = 0x2;
    internal const int MAP_SHARED = 0x01;
    internal const int MAP_PRIVATE = 0x02;
    internal const int MAP_ANONYMOUS = 0x20;
    internal const int MAP_POPULATE = 0x8000;

    /// <summary><c>MAP_FAILED</c>: what mmap returns on error.</summary>
    internal static unsafe void* MAP_FAILED => (void*)-1;

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial void* mmap(void* addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial int munmap(void* addr, nuint length);
}
