using System.Runtime.InteropServices;

namespace EventIO.Interop;

/// <summary>Per-thread scheduling (Linux schedules threads: nice and policy apply to one thread).</summary>
internal static class ThreadScheduling
{
    /// <summary>
    /// Raises the calling thread's nice value to <paramref name="nice"/> (0..19; needs no privilege).
    /// Returns false where unsupported or refused; the thread then keeps its priority.
    /// </summary>
    internal static bool TrySetNice(int nice)
    {
        long tid = CurrentThreadId();
        return tid > 0 && Libc.setpriority(Libc.PRIO_PROCESS, (uint)tid, nice) == 0;
    }

    /// <summary>
    /// Puts the calling thread under SCHED_IDLE: it runs only when nothing else on its CPU wants to, and a
    /// waking normal thread preempts it at once (needs no privilege). Returns false where unsupported;
    /// <paramref name="tid"/> is the thread's kernel id (-1 where unsupported).
    /// </summary>
    internal static bool TrySetIdlePolicy(out int tid)
    {
        tid = (int)CurrentThreadId();
        return TrySetIdlePolicy(tid);
    }

    /// <summary>
    /// Moves thread <paramref name="tid"/> of this process back to SCHED_OTHER at nice 0. Leaving SCHED_IDLE
    /// needs CAP_SYS_NICE or a permissive RLIMIT_NICE; returns false where refused or unsupported.
    /// </summary>
    internal static unsafe bool TrySetNormalPolicy(int tid)
    {
        Libc.sched_param param = default;
        return tid > 0 && OperatingSystem.IsLinux() && Libc.sched_setscheduler(tid, Libc.SCHED_OTHER, &param) == 0;
    }

    /// <summary>
    /// Moves thread <paramref name="tid"/> of this process to SCHED_OTHER at <paramref name="nice"/> (from
    /// SCHED_IDLE: needs CAP_SYS_NICE or RLIMIT_NICE of at least 20 − its nice value). False where refused.
    /// </summary>
    internal static bool TrySetNormalPolicy(int tid, int nice) =>
        TrySetNormalPolicy(tid) && (nice == 0 || Libc.setpriority(Libc.PRIO_PROCESS, (uint)tid, nice) == 0);

    /// <summary>Puts thread <paramref name="tid"/> of this process under SCHED_IDLE (needs no privilege). False where refused.</summary>
    internal static unsafe bool TrySetIdlePolicy(int tid)
    {
        Libc.sched_param param = default;
        return tid > 0 && OperatingSystem.IsLinux() && Libc.sched_setscheduler(tid, Libc.SCHED_IDLE, &param) == 0;
    }

    /// <summary>
    /// The CPU time thread <paramref name="tid"/> of this process has used, in nanoseconds (its per-thread
    /// CPU clock, as <c>pthread_getcpuclockid</c> builds it); -1 if the thread is gone or unsupported.
    /// </summary>
    internal static unsafe long ThreadCpuNanoseconds(int tid)
    {
        if (tid <= 0 || !OperatingSystem.IsLinux())
        {
            return -1;
        }

        int clock = (~tid << 3) | 6; // MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED)
        Libc.timespec time;
        return Libc.clock_gettime(clock, &time) == 0 ? (time.tv_sec * 1_000_000_000L) + time.tv_nsec : -1;
    }

    /// <summary>The calling thread's kernel id, asked of the kernel once per thread; -1 where unsupported.</summary>
    internal static int CurrentThreadIdCached
    {
        get
        {
            if (t_threadId == 0)
            {
                t_threadId = (int)CurrentThreadId();
            }

            return t_threadId;
        }
    }

    [ThreadStatic]
    private static int t_threadId;

    private static long CurrentThreadId()
    {
        if (!OperatingSystem.IsLinux())
        {
            return -1;
        }

        long number = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => Libc.SYS_gettid_x64,
            Architecture.Arm64 => Libc.SYS_gettid_arm64,
            _ => -1,
        };
        return number < 0 ? -1 : Libc.syscall(number);
    }
}
