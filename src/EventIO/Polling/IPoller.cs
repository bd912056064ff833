namespace EventIO.Polling;

/// <summary>
/// A readiness backend in four verbs, as mio's selector: add, modify, remove, wait. It knows
/// descriptors, interests and tokens, nothing of handlers.
/// </summary>
/// <remarks>
/// <para><b>Threading:</b> every member is called on the loop thread only.</para>
/// <para><b>Contract:</b> level-triggered. <see cref="Add"/> with <see cref="Interest.None"/> only checks
/// that the backend could ever watch the descriptor (select refuses numbers ≥ 1024 there) and puts
/// nothing in the kernel; a registration whose interest drops to none is removed, not modified, so a
/// hang-up on a paused descriptor cannot spin the loop.</para>
/// </remarks>
internal interface IPoller : IDisposable
{
    /// <summary>The backend's name as the CLI spells it (<c>epoll</c>, <c>poll</c>, <c>select</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Starts watching <paramref name="fd"/> for <paramref name="interest"/>, reporting
    /// <paramref name="token"/>. With <see cref="Interest.None"/>, only validates. Throws with a clear
    /// message when the backend cannot watch the descriptor.
    /// </summary>
    void Add(int fd, Interest interest, ulong token);

    /// <summary>Changes the interest (never <see cref="Interest.None"/>) and token of a watched descriptor.</summary>
    void Modify(int fd, Interest interest, ulong token);

    /// <summary>Stops watching <paramref name="fd"/>. Tolerates a descriptor that is not watched or already closed.</summary>
    void Remove(int fd);

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> milliseconds (-1: forever, 0: do not block) and fills
    /// <paramref name="events"/>. Returns the number filled; 0 on timeout or interruption (EINTR).
    /// </summary>
    int Wait(Span<ReadyEvent> events, int timeoutMs);
}
