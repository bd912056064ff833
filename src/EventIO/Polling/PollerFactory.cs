namespace EventIO.Polling;

/// <summary>The one place that chooses a readiness backend.</summary>
internal static class PollerFactory
{
    /// <summary>
    /// Creates the poller for <paramref name="backend"/>; <see cref="PollerBackend.Default"/> is epoll
    /// on Linux. Throws <see cref="PlatformNotSupportedException"/> off Linux (the waker is an eventfd).
    /// </summary>
    internal static IPoller Create(PollerBackend backend, int maxEvents)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("EventIO currently runs on Linux only (epoll, poll and select backends, eventfd waker).");
        }

        return backend switch
        {
            PollerBackend.Default or PollerBackend.Epoll => new EpollPoller(maxEvents),
            PollerBackend.Poll => new PollPoller(),
            PollerBackend.Select => new SelectPoller(),
            PollerBackend.IoUring => IoUringPoller.IsSupported(out string reason) ? new IoUringPoller(maxEvents) : throw new PlatformNotSupportedException(reason),
            PollerBackend.Auto => IoUringPoller.IsSupported(out _) ? new IoUringPoller(maxEvents) : new EpollPoller(maxEvents),
            _ => throw new ArgumentOutOfRangeException(nameof(backend), backend, "Unknown poller backend."),
        };
    }
}
