namespace EventIO.Polling;

/// <summary>The one place that chooses a readiness backend.</summary>
internal static class PollerFactory
{
    /// <summary>The environment variable that chooses the backend of loops created with <see cref="PollerBackend.Default"/>.</summary>
    internal const string EnvironmentVariable = "EVENTIO_BACKEND";

    /// <summary>
    /// Creates the poller for <paramref name="backend"/>; <see cref="PollerBackend.Default"/> is what
    /// <c>EVENTIO_BACKEND</c> names (epoll, poll, select, io_uring, auto), else epoll. Throws
    /// <see cref="PlatformNotSupportedException"/> off Linux (the waker is an eventfd), or for io_uring where
    /// the kernel refuses it.
    /// </summary>
    internal static IPoller Create(PollerBackend backend, int maxEvents) => Create(backend, maxEvents, out _);

    /// <summary>
    /// As <see cref="Create(PollerBackend, int)"/>; <paramref name="fallback"/> says why <see cref="PollerBackend.Auto"/>
    /// chose epoll (the kernel's refusal of io_uring: EPERM from a seccomp profile, ENOSYS, a missing feature), else null.
    /// </summary>
    internal static IPoller Create(PollerBackend backend, int maxEvents, out string? fallback)
    {
        fallback = null;
        if (backend == PollerBackend.Default)
        {
            backend = DefaultBackend();
        }

        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("EventIO currently runs on Linux only (epoll, poll and select backends, eventfd waker).");
        }

        return backend switch
        {
            PollerBackend.Epoll => new EpollPoller(maxEvents),
            PollerBackend.Poll => new PollPoller(),
            PollerBackend.Select => new SelectPoller(),
            PollerBackend.IoUring => IoUringPoller.IsSupported(out string reason) ? new IoUringPoller(maxEvents) : throw new PlatformNotSupportedException(reason),
            PollerBackend.Auto => IoUringPoller.IsSupported(out string refusal) ? new IoUringPoller(maxEvents) : Fallback(refusal, maxEvents, out fallback),
            _ => throw new ArgumentOutOfRangeException(nameof(backend), backend, "Unknown poller backend."),
        };
    }

    /// <summary>True the first time in this process: the fallback is logged once, not once per loop.</summary>
    internal static bool FirstFallback() => Interlocked.Exchange(ref s_fallbackLogged, 1) == 0;

    private static int s_fallbackLogged;

    private static EpollPoller Fallback(string refusal, int maxEvents, out string? fallback)
    {
        fallback = refusal;
        return new EpollPoller(maxEvents);
    }

    /// <summary>The backend <see cref="PollerBackend.Default"/> stands for: <c>EVENTIO_BACKEND</c>, else epoll.</summary>
    /// <exception cref="ArgumentException">The variable names no backend.</exception>
    internal static PollerBackend DefaultBackend()
    {
        string? name = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(name))
        {
            return PollerBackend.Epoll;
        }

        return name.Trim().ToLowerInvariant() switch
        {
            "epoll" => PollerBackend.Epoll,
            "poll" => PollerBackend.Poll,
            "select" => PollerBackend.Select,
            "io_uring" or "iouring" => PollerBackend.IoUring,
            "auto" => PollerBackend.Auto,
            _ => throw new ArgumentException($"{EnvironmentVariable}={name} names no backend (epoll, poll, select, io_uring, auto)."),
        };
    }
}
