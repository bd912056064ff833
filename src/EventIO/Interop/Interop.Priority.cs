using System.Runtime.InteropServices;

namespace EventIO.Interop;

internal static partial class Libc
{
    internal const int PRIO_PROCESS = 0;
    internal const long SYS_gettid_x64 = 186;
    internal const long SYS_gettid_arm64 = 178;

    [LibraryImport(Name, SetLastError = true)]
    internal static partial int setpriority(int which, uint who, int prio);

    [LibraryImport(Name, SetLastError = true)]
    internal static partial long syscall(long number);
}
