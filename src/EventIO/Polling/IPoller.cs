namespace EventIO.Polling;

/// <summary>
/// A readiness backend: knows descriptors, interests and tokens, nothing of handlers.
/// </summary>
/// <remarks>
/// <para><b>Threading:</b> every member is called on the loop thread only.</para>
/// <para><b>Contract:</b> level-triggered. A descriptor with <see cref="Interest.None"/> is never passed
/// in; the loop removes it instead, so a hang-up on a paused descriptor cannot spin the loop.</para>
/// </remarks>
internal interface IPoller : IDisposable
{
    /// <summary>The backend's name as the CLI spells it (<c>epoll</c>, <c>poll</c>, <c>select</c>).</summary>
    string Name { get; }

    /// <summary>
    /// True when the kernel drops a descriptor's registration by itself once it is closed (epoll), so a
    /// stale registration must not be removed by number: the number may already name another file.
    /// </summary>
    bool ForgetsClosedDescriptors { get; }

    /// <summary>
    /// Throws <see cref="NotSupportedException"/> with a clear message if this backend can never watch
    /// <paramref name="fd"/> (select and descriptors ≥ 1024), so that <see cref="EventLoop.Add"/> refuses the
    /// handler at once even when it wants nothing yet.
    /// </summary>
    void EnsureCanWatch(int fd);

    /// <summary>Starts watching <paramref name="fd"/>; throws when the backend cannot (clear message).</summary>
    void Add(int fd, Interest interest, ulong token);

    /// <summary>Changes the interest and token of a watched descriptor.</summary>
    void Modify(int fd, Interest interest, ulong token);

    /// <summary>Stops watching <paramref name="fd"/>. Tolerates a descriptor that is already closed.</summary>
    void Remove(int fd);

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> milliseconds (-1: forever, 0: do not block) and fills
    /// <paramref name="events"/>. Returns the number filled; 0 on timeout or interruption (EINTR).
    /// </summary>
    int Wait(Span<ReadyEvent> events, int timeoutMs);
}
