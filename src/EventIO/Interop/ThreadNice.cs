using System.Runtime.InteropServices;

namespace EventIO.Interop;

/// <summary>Per-thread scheduling niceness (Linux schedules threads, so nice applies to one thread).</summary>
internal static class ThreadNice
{
    /// <summary>
    /// Raises the calling thread's nice value to <paramref name="nice"/> (0..19; raising needs no privilege).
    /// Returns false where unsupported or refused; the caller carries on at normal priority.
    /// </summary>
    internal static bool TrySetForCurrentThread(int nice)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        long number = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => Libc.SYS_gettid_x64,
            Architecture.Arm64 => Libc.SYS_gettid_arm64,
            _ => -1,
        };
        if (number < 0)
        {
            return false;
        }

        long tid = Libc.syscall(number);
        return tid > 0 && Libc.setpriority(Libc.PRIO_PROCESS, (uint)tid, nice) == 0;
    }
}
