using EventIO.Interop;

namespace EventIO.Polling;

/// <summary>
/// poll(2): portable across Unix, no descriptor limit, O(registered) per wait. Kept as the fallback
/// backend and forceable on Linux so the contract suite exercises it.
/// </summary>
internal sealed unsafe class PollPoller : IPoller
{
    private Libc.pollfd[] _fds = new Libc.pollfd[64];
    private ulong[] _tokens = new ulong[64];
    private int[] _indexByFd = CreateIndex(1024);
    private int _count;
    private int _scanStart;

    /// <inheritdoc/>
    public string Name => "poll";

    /// <inheritdoc/>
    public void Add(int fd, Interest interest, ulong token)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fd);
        if (interest == Interest.None)
        {
            return; // poll can watch any descriptor; nothing to watch yet
        }

        EnsureIndex(fd);
        int i = _indexByFd[fd];
        if (i < 0)
        {
            if (_count == _fds.Length)
            {
                Array.Resize(ref _fds, _count * 2);
                Array.Resize(ref _tokens, _count * 2);
            }

            i = _count++;
            _indexByFd[fd] = i;
            _fds[i].fd = fd;
        }

        _fds[i].events = ToEvents(interest);
        _fds[i].revents = 0;
        _tokens[i] = token;
    }

    /// <inheritdoc/>
    public void Modify(int fd, Interest interest, ulong token)
    {
        int i = fd < _indexByFd.Length ? _indexByFd[fd] : -1;
        if (i < 0)
        {
            throw new InvalidOperationException($"poll: descriptor {fd} is not registered.");
        }

        _fds[i].events = ToEvents(interest);
        _tokens[i] = token;
    }

    /// <inheritdoc/>
    public void Remove(int fd)
    {
        int i = fd >= 0 && fd < _indexByFd.Length ? _indexByFd[fd] : -1;
        if (i < 0)
        {
            return;
        }

        // Swap-remove keeps the array dense.
        int last = --_count;
        if (i != last)
        {
            _fds[i] = _fds[last];
            _tokens[i] = _tokens[last];
            _indexByFd[_fds[i].fd] = i;
        }

        _indexByFd[fd] = -1;
    }

    /// <inheritdoc/>
    public int Wait(Span<ReadyEvent> events, int timeoutMs)
    {
        int rc;
        fixed (Libc.pollfd* p = _fds)
        {
            rc = Libc.poll(p, (nuint)_count, timeoutMs);
        }

        if (rc < 0)
        {
            int errno = Libc.LastErrno;
            if (errno == Libc.EINTR)
            {
                return 0;
            }

            Libc.Throw("poll", errno);
        }

        return rc == 0 || _count == 0 ? 0 : Collect(events, rc);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _count = 0;
    }

    // poll returns how many entries have revents set: stop once all of them are found. Each scan starts
    // where the last one stopped, so that when more descriptors are ready than events fit, the ones at
    // the end of the array are not starved.
    private int Collect(Span<ReadyEvent> events, int rc)
    {
        int filled = 0;
        int i = _scanStart % _count;
        for (int k = 0; k < _count && filled < events.Length && filled < rc; k++, i = i + 1 == _count ? 0 : i + 1)
        {
            short re = _fds[i].revents;
            if (re == 0)
            {
                continue;
            }

            events[filled++] = new ReadyEvent(_tokens[i], ToInterest(re), (re & (Libc.POLLERR | Libc.POLLHUP | Libc.POLLNVAL)) != 0);
            _scanStart = i + 1;
        }

        return filled;
    }

    // The one Interest <-> poll flags mapping, both ways.
    private static short ToEvents(Interest interest)
        => (short)(((interest & Interest.Readable) != 0 ? Libc.POLLIN : 0) | ((interest & Interest.Writable) != 0 ? Libc.POLLOUT : 0));

    private static Interest ToInterest(short revents)
        => ((revents & Libc.POLLIN) != 0 ? Interest.Readable : Interest.None) | ((revents & Libc.POLLOUT) != 0 ? Interest.Writable : Interest.None);

    private static int[] CreateIndex(int length)
    {
        var index = new int[length];
        Array.Fill(index, -1);
        return index;
    }

    private void EnsureIndex(int fd)
    {
        if (fd < _indexByFd.Length)
        {
            return;
        }

        int old = _indexByFd.Length;
        Array.Resize(ref _indexByFd, Math.Max(fd + 1, old * 2));
        Array.Fill(_indexByFd, -1, old, _indexByFd.Length - old);
    }
}
