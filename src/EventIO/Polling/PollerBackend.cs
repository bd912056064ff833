namespace EventIO.Polling;

/// <summary>Which readiness mechanism an <see cref="EventLoop"/> uses.</summary>
public enum PollerBackend
{
    /// <summary>The environment variable <c>EVENTIO_BACKEND</c> (epoll, poll, select, io_uring, auto) if set, else epoll.</summary>
    Default = 0,

    /// <summary>Level-triggered epoll(7): O(ready) per turn, any number of descriptors (Linux).</summary>
    Epoll,

    /// <summary>poll(2): O(registered) per turn, any number of descriptors.</summary>
    Poll,

    /// <summary>select(2), as in the recipe: O(highest descriptor) per turn, descriptors below 1024 only.</summary>
    Select,

    /// <summary>
    /// io_uring (Linux 6.0 or later): one system call per turn submits every request and reaps every
    /// completion; the building blocks receive, send and accept through it.
    /// </summary>
    IoUring,

    /// <summary>io_uring where the kernel and process allow it (seccomp, sysctl), else epoll.</summary>
    Auto,
}
