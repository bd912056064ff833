using System.Runtime.InteropServices;

namespace EventIO.Interop;

internal static partial class Libc
{
    internal const int RLIMIT_NOFILE = 7;

    /// <summary><c>struct rlimit</c> (64-bit Linux: two unsigned longs).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct rlimit
    {
        internal ulong rlim_cur;
        internal ulong rlim_max;
    }

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial int getrlimit(int resource, rlimit* limit);

    [LibraryImport(Name, SetLastError = true)]
    internal static unsafe partial int setrlimit(int resource, rlimit* limit);
}
