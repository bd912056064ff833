using System.Diagnostics;

namespace EventIO;

/// <summary>Conversions for the monotonic clock the loop runs on (<see cref="Stopwatch"/> timestamps).</summary>
internal static class MonotonicClock
{
    /// <summary>The farthest a deadline is ever set from now: far beyond any real delay, far from overflow.</summary>
    private const long MaxTicks = long.MaxValue / 4;

    /// <summary>A delay in Stopwatch ticks, rounded up so that a timer never fires early; 0 for zero or negative delays, saturated for absurd ones.</summary>
    internal static long ToTicks(TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            return 0;
        }

        double ticks = Math.Ceiling(delay.Ticks * (double)Stopwatch.Frequency / TimeSpan.TicksPerSecond);
        return ticks >= MaxTicks ? MaxTicks : (long)ticks;
    }

    /// <summary><paramref name="timestamp"/> + <paramref name="ticks"/>, saturating instead of overflowing.</summary>
    internal static long Add(long timestamp, long ticks) => timestamp > long.MaxValue - ticks ? long.MaxValue - 1 : timestamp + ticks;

    /// <summary>A span of Stopwatch ticks as a poll timeout in whole milliseconds, rounded up, capped at <see cref="int.MaxValue"/>.</summary>
    internal static int ToWaitMilliseconds(long ticks)
    {
        if (ticks <= 0)
        {
            return 0;
        }

        long ms = (long)Math.Ceiling(ticks * 1000.0 / Stopwatch.Frequency);
        return ms >= int.MaxValue ? int.MaxValue : (int)ms;
    }

    /// <summary>
    /// A caller's wait limit as a poll timeout: null or <see cref="Timeout.InfiniteTimeSpan"/> is -1 (no
    /// limit). Any other negative value is refused.
    /// </summary>
    internal static int ToWaitMilliseconds(TimeSpan? timeout, string paramName)
    {
        if (timeout is null || timeout == Timeout.InfiniteTimeSpan)
        {
            return -1;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(timeout.Value, TimeSpan.Zero, paramName);
        return ToWaitMilliseconds(ToTicks(timeout.Value));
    }
}
