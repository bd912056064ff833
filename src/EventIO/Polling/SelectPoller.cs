using EventIO.Interop;

namespace EventIO.Polling;

/// <summary>
/// select(2), as in the recipe: kept for fidelity and teaching. O(highest descriptor) per wait and
/// limited to descriptors below <see cref="Libc.FD_SETSIZE"/> (1024); a higher one is refused with a
/// clear error instead of corrupting memory as an unchecked FD_SET would.
/// </summary>
internal sealed unsafe class SelectPoller : IPoller
{
    private readonly Interest[] _interest = new Interest[Libc.FD_SETSIZE];
    private readonly ulong[] _tokens = new ulong[Libc.FD_SETSIZE];
    private int _maxFd = -1;
    private int _scanStart;

    /// <inheritdoc/>
    public string Name => "select";

    /// <inheritdoc/>
    public void Add(int fd, Interest interest, ulong token)
    {
        if ((uint)fd >= Libc.FD_SETSIZE)
        {
            throw new NotSupportedException(
                $"select() cannot watch descriptor {fd}: FD_SETSIZE is {Libc.FD_SETSIZE}. Use the epoll or poll backend for more descriptors.");
        }

        if (interest == Interest.None)
        {
            return;
        }

        _interest[fd] = interest;
        _tokens[fd] = token;
        _maxFd = Math.Max(_maxFd, fd);
    }

    /// <inheritdoc/>
    public void Modify(int fd, Interest interest, ulong token) => Add(fd, interest, token);

    /// <inheritdoc/>
    public void Remove(int fd)
    {
        if ((uint)fd >= Libc.FD_SETSIZE)
        {
            return;
        }

        _interest[fd] = Interest.None;
        while (_maxFd >= 0 && _interest[_maxFd] == Interest.None)
        {
            _maxFd--;
        }
    }

    /// <inheritdoc/>
    public int Wait(Span<ReadyEvent> events, int timeoutMs)
    {
        Libc.fd_set readSet = default, writeSet = default;
        for (int fd = 0; fd <= _maxFd; fd++)
        {
            Set(ref readSet, fd, (_interest[fd] & Interest.Readable) != 0);
            Set(ref writeSet, fd, (_interest[fd] & Interest.Writable) != 0);
        }

        Libc.timeval tv = new() { tv_sec = timeoutMs / 1000, tv_usec = timeoutMs % 1000 * 1000 };
        int rc = Libc.select(_maxFd + 1, &readSet, &writeSet, null, timeoutMs < 0 ? null : &tv);
        if (rc < 0)
        {
            int errno = Libc.LastErrno;
            if (errno == Libc.EINTR)
            {
                return 0;
            }

            if (errno == Libc.EBADF)
            {
                // A handler closed its descriptor without leaving the loop: select cannot say which.
                return ReportClosedDescriptors(events);
            }

            Libc.Throw("select", errno);
        }

        return rc == 0 || _maxFd < 0 ? 0 : Collect(events, in readSet, in writeSet, rc);
    }

    /// <inheritdoc/>
    public void Dispose() => _maxFd = -1;

    private static void Set(ref Libc.fd_set set, int fd, bool on)
    {
        if (on)
        {
            set.fds_bits[fd >> 6] |= 1UL << (fd & 63);
        }
    }

    private static bool IsSet(in Libc.fd_set set, int fd) => (set.fds_bits[fd >> 6] & (1UL << (fd & 63))) != 0;

    // select returns the number of set bits (a descriptor both readable and writable counts twice): stop
    // once all are found. Each scan starts where the last stopped, so that when more descriptors are ready
    // than events fit, the high ones are not starved.
    private int Collect(Span<ReadyEvent> events, in Libc.fd_set readSet, in Libc.fd_set writeSet, int setBits)
    {
        int filled = 0;
        int span = _maxFd + 1;
        int d = _scanStart % span;
        for (int k = 0; k < span && filled < events.Length && setBits > 0; k++, d = d + 1 == span ? 0 : d + 1)
        {
            Interest ready = (IsSet(readSet, d) ? Interest.Readable : Interest.None) | (IsSet(writeSet, d) ? Interest.Writable : Interest.None);
            if (ready != Interest.None)
            {
                setBits -= ready == (Interest.Readable | Interest.Writable) ? 2 : 1;
                events[filled++] = new ReadyEvent(_tokens[d], ready, Failed: false);
                _scanStart = d + 1;
            }
        }

        return filled;
    }

    // Finds the closed descriptors with a zero-timeout poll (POLLNVAL) and reports them as failed.
    private int ReportClosedDescriptors(Span<ReadyEvent> events)
    {
        int filled = 0;
        Libc.pollfd probe;
        for (int fd = 0; fd <= _maxFd && filled < events.Length; fd++)
        {
            if (_interest[fd] == Interest.None)
            {
                continue;
            }

            probe = new Libc.pollfd { fd = fd, events = Libc.POLLIN };
            if (Libc.poll(&probe, 1, 0) == 1 && (probe.revents & Libc.POLLNVAL) != 0)
            {
                events[filled++] = new ReadyEvent(_tokens[fd], _interest[fd], Failed: true);
            }
        }

        return filled;
    }
}
