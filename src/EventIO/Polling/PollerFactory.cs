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
    internal static IPoller Create(PollerBackend backend, int maxEvents)
    {
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
            PollerBackend.Auto => IoUringPoller.IsSupported(out _) ? new IoUringPoller(maxEvents) : new EpollPoller(maxEvents),
            _ => throw new ArgumentOutOfRangeException(nameof(backend), backend, "Unknown poller backend."),
        };
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
