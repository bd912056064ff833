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

    internal const int SCHED_OTHER = 0;
    internal const int SCHED_IDLE = 5;

    /// <summary><c>struct sched_param</c>: one int.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct sched_param
    {
        internal int sched_priority;
    }

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial int sched_setscheduler(int pid, int policy, sched_param* param);

    /// <summary><c>struct timespec</c> (64-bit Linux: two longs).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct timespec
    {
        internal long tv_sec;
        internal long tv_nsec;
    }

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial int clock_gettime(int clockid, timespec* time);

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial nint pread(int fd, void* buf, nuint count, long offset);
}
