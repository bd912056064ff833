using EventIO.Interop;

namespace EventIO;

/// <summary>
/// The process's descriptor limit (<c>RLIMIT_NOFILE</c>): every connection costs one. A server should raise
/// the soft limit to the hard one at start, as Go and the JVM do (the .NET runtime does so too, NativeAOT
/// builds do not), and say when even the hard limit is below what it was asked to hold.
/// </summary>
public sealed class DescriptorLimit
{
    private DescriptorLimit(long soft, long hard, long previousSoft)
    {
        Soft = soft;
        Hard = hard;
        PreviousSoft = previousSoft;
    }

    /// <summary>The soft limit now: the most descriptors the process may have open.</summary>
    public long Soft { get; }

    /// <summary>The hard limit: how far an unprivileged process may raise <see cref="Soft"/> (<c>ulimit -Hn</c>, systemd's <c>LimitNOFILE=</c>).</summary>
    public long Hard { get; }

    /// <summary>The soft limit before <see cref="RaiseToHard"/>; equal to <see cref="Soft"/> when nothing changed.</summary>
    public long PreviousSoft { get; }

    /// <summary>True if <see cref="RaiseToHard"/> raised the soft limit.</summary>
    public bool Raised => Soft > PreviousSoft;

    /// <summary>Reads the limits; null where the platform has none (not Unix) or the call failed.</summary>
    public static DescriptorLimit? Read()
    {
        if (!OperatingSystem.IsLinux() || !TryGet(out Libc.rlimit limit))
        {
            return null;
        }

        return new DescriptorLimit(Clamp(limit.rlim_cur), Clamp(limit.rlim_max), Clamp(limit.rlim_cur));
    }

    /// <summary>
    /// Raises the soft limit to the hard limit (capped at <paramref name="ceiling"/>; an unlimited hard limit
    /// would otherwise make every descriptor table as large as the kernel allows) and returns the result; null
    /// where the platform has none. Never lowers the limit. Any thread; affects the whole process.
    /// </summary>
    public static unsafe DescriptorLimit? RaiseToHard(long ceiling = 1 << 20)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ceiling, 1);
        if (!OperatingSystem.IsLinux() || !TryGet(out Libc.rlimit limit))
        {
            return null;
        }

        ulong previous = limit.rlim_cur;
        ulong target = Math.Min(limit.rlim_max, (ulong)ceiling);
        if (target > limit.rlim_cur)
        {
            Libc.rlimit raised = limit;
            raised.rlim_cur = target;
            if (Libc.setrlimit(Libc.RLIMIT_NOFILE, &raised) == 0)
            {
                limit = raised;
            }
        }

        return new DescriptorLimit(Clamp(limit.rlim_cur), Clamp(limit.rlim_max), Clamp(previous));
    }

    private static unsafe bool TryGet(out Libc.rlimit limit)
    {
        Libc.rlimit value;
        bool ok = Libc.getrlimit(Libc.RLIMIT_NOFILE, &value) == 0;
        limit = value;
        return ok;
    }

    private static long Clamp(ulong value) => value > long.MaxValue ? long.MaxValue : (long)value; // RLIM_INFINITY
}
