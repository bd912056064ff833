namespace EventIO.Net;

/// <summary>
/// The send queues' 16 KiB segments, allocated on the pinned object heap and kept per thread for reuse.
/// Pinned, so a send the kernel performs later (io_uring) takes their address without a pin handle, and
/// the GC never has to work around a pinned buffer in gen0; per thread, because a queue lives on its
/// loop's thread and a loop reuses what it returned without a lock.
/// </summary>
/// <remarks>
/// <b>Threading:</b> any thread; each thread has its own cache of at most <see cref="CacheLimit"/>
/// segments (4 MiB), so a burst leaves no more than that behind: the rest goes to the GC.
/// </remarks>
internal static class SegmentPool
{
    /// <summary>Segments a thread keeps for reuse.</summary>
    internal const int CacheLimit = 256;

    [ThreadStatic]
    private static Stack<byte[]>? t_cache;

    /// <summary>A segment of <paramref name="size"/> bytes (contents undefined).</summary>
    internal static byte[] Rent(int size)
    {
        Stack<byte[]>? cache = t_cache;
        if (cache is not null && cache.TryPop(out byte[]? segment) && segment.Length == size)
        {
            return segment;
        }

        return GC.AllocateUninitializedArray<byte>(size, pinned: true);
    }

    /// <summary>Gives <paramref name="segment"/> back for reuse on this thread.</summary>
    internal static void Return(byte[] segment)
    {
        Stack<byte[]> cache = t_cache ??= new Stack<byte[]>(CacheLimit);
        if (cache.Count < CacheLimit)
        {
            cache.Push(segment);
        }
    }
}
