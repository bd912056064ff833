namespace EventIO.Net;

/// <summary>
/// A cap on open connections shared by several <see cref="TcpServer"/>s (one per loop, say), so that
/// <c>--max-connections</c> holds for the process, not per loop. Thread-safe.
/// </summary>
public sealed class ConnectionLimit
{
    private int _count;

    /// <summary>Allows at most <paramref name="max"/> connections open at once.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="max"/> is below 1.</exception>
    public ConnectionLimit(int max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        Max = max;
    }

    /// <summary>The most connections open at once.</summary>
    public int Max { get; }

    /// <summary>Connections counted as open now. Any thread.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Counts one more connection unless the cap is reached. Any thread.</summary>
    internal bool TryAcquire()
    {
        int count = Volatile.Read(ref _count);
        while (count < Max)
        {
            int seen = Interlocked.CompareExchange(ref _count, count + 1, count);
            if (seen == count)
            {
                return true;
            }

            count = seen;
        }

        return false;
    }

    /// <summary>Counts one connection fewer. Any thread.</summary>
    internal void Release() => Interlocked.Decrement(ref _count);
}
