namespace EventIO.Interop;

/// <summary>
/// One thread's <c>/proc/self/task/TID/schedstat</c> and <c>stat</c>, kept open and read with <c>pread</c>
/// (no allocation): the CPU time the thread has used and the time it has spent runnable but waiting for a
/// CPU (run delay), both in nanoseconds, and whether it is runnable now. Not thread-safe; one reader.
/// </summary>
internal sealed class SchedStatFile : IDisposable
{
    private int _fd;
    private int _statFd;
    private long _cpu;   // as last read
    private long _wait;

    private SchedStatFile(int tid, int fd, int statFd)
    {
        ThreadId = tid;
        _fd = fd;
        _statFd = statFd;
    }

    /// <summary>The kernel id of the thread read.</summary>
    internal int ThreadId { get; }

    /// <summary>Opens thread <paramref name="tid"/>'s file; null if the thread is gone or the kernel has no schedstat.</summary>
    internal static SchedStatFile? TryOpen(int tid)
    {
        if (tid <= 0 || !OperatingSystem.IsLinux())
        {
            return null;
        }

        int fd = Libc.open($"/proc/self/task/{tid}/schedstat", Libc.O_RDONLY | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            return null;
        }

        return new SchedStatFile(tid, fd, Libc.open($"/proc/self/task/{tid}/stat", Libc.O_RDONLY | Libc.O_CLOEXEC));
    }

    /// <summary>
    /// True if the thread is running or waiting for a CPU now (state R in <c>stat</c>); false if it sleeps or
    /// blocks, or the file cannot be read.
    /// </summary>
    internal bool IsRunnable() => IsRunnable(_statFd);

    /// <summary>As <see cref="IsRunnable()"/> for thread <paramref name="tid"/>, opening its <c>stat</c> for one read; true if unreadable (gone, or no descriptor left).</summary>
    internal static bool IsThreadRunnable(int tid)
    {
        int fd = tid > 0 ? Libc.open($"/proc/self/task/{tid}/stat", Libc.O_RDONLY | Libc.O_CLOEXEC) : -1;
        if (fd < 0)
        {
            return true;
        }

        bool runnable = IsRunnable(fd);
        Libc.close(fd);
        return runnable;
    }

    /// <summary>
    /// Reads the counters and returns what the thread used and waited since the last read (since opening, the
    /// first time); false once the thread has exited (or the file cannot be read).
    /// </summary>
    internal bool TryReadDelta(out long cpuNanoseconds, out long waitNanoseconds)
    {
        cpuNanoseconds = 0;
        waitNanoseconds = 0;
        if (!TryRead(out long cpu, out long wait))
        {
            return false;
        }

        cpuNanoseconds = cpu - _cpu;
        waitNanoseconds = wait - _wait;
        _cpu = cpu;
        _wait = wait;
        return true;
    }

    // stat's third field, after the name in parentheses (which may hold spaces and parentheses): R is running
    // or waiting for a CPU.
    private static unsafe bool IsRunnable(int statFd)
    {
        byte* text = stackalloc byte[512];
        nint length = statFd < 0 ? -1 : Libc.pread(statFd, text, 512, 0);
        if (length <= 0)
        {
            return false;
        }

        var span = new ReadOnlySpan<byte>(text, (int)length);
        int end = span.LastIndexOf((byte)')');
        return end >= 0 && end + 2 < span.Length && span[end + 2] == (byte)'R';
    }

    /// <summary>Reads the two counters; false once the thread has exited (or the file cannot be read).</summary>
    private unsafe bool TryRead(out long cpuNanoseconds, out long waitNanoseconds)
    {
        cpuNanoseconds = 0;
        waitNanoseconds = 0;
        byte* text = stackalloc byte[96];
        nint length = _fd < 0 ? -1 : Libc.pread(_fd, text, 96, 0);
        if (length <= 0)
        {
            return false;
        }

        var span = new ReadOnlySpan<byte>(text, (int)length);
        return TakeNumber(ref span, out cpuNanoseconds) && TakeNumber(ref span, out waitNanoseconds);
    }

    /// <summary>Closes the file. Idempotent.</summary>
    public void Dispose()
    {
        if (_fd >= 0)
        {
            Libc.close(_fd);
            _fd = -1;
        }

        if (_statFd >= 0)
        {
            Libc.close(_statFd);
            _statFd = -1;
        }
    }

    private static bool TakeNumber(ref ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        int i = 0;
        while (i < text.Length && text[i] == (byte)' ')
        {
            i++;
        }

        int start = i;
        while (i < text.Length && text[i] >= (byte)'0' && text[i] <= (byte)'9')
        {
            value = (value * 10) + (text[i] - '0');
            i++;
        }

        text = text[i..];
        return i > start;
    }
}
