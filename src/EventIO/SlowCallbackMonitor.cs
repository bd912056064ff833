using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace EventIO;

/// <summary>
/// Names every handler call, timer and posted action that holds the loop longer than a threshold (as
/// asyncio's debug mode): one clock read per callback, since each one's end is the next one's start.
/// </summary>
/// <remarks><b>Threading:</b> loop thread only.</remarks>
internal sealed class SlowCallbackMonitor
{
    private readonly ILogger _logger;
    private readonly long _thresholdTicks; // long.MaxValue: off
    private long _callbackStart;

    internal SlowCallbackMonitor(ILogger logger, TimeSpan threshold)
    {
        _logger = logger;
        _thresholdTicks = threshold == Timeout.InfiniteTimeSpan ? long.MaxValue : Math.Max(1, MonotonicClock.ToTicks(threshold));
    }

    /// <summary>Callbacks that held the loop too long.</summary>
    internal long Count { get; private set; }

    /// <summary>The first callback of a turn starts when the wait ended.</summary>
    internal void StartTurn(long now) => _callbackStart = now;

    /// <summary>When the last callback ended (or the turn's wait, if none ran yet).</summary>
    internal long LastEnd => _callbackStart;

    /// <summary>Ends the callback now running (a handler, or a delegate and its state), reports it if it was slow, and returns how long it took.</summary>
    internal long EndCallback(object callback, object? state = null)
    {
        long ended = Stopwatch.GetTimestamp();
        long elapsed = ended - _callbackStart;
        _callbackStart = ended;
        if (elapsed > _thresholdTicks)
        {
            Report(callback, state, elapsed);
        }

        return elapsed;
    }

    // The name is built only when the warning is logged, so a slow turn allocates nothing when logging is
    // off (a preempted loop thread can make any call look slow).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Report(object callback, object? state, long elapsedTicks)
    {
        Count++;
        if (!_logger.IsEnabled(LogLevel.Warning))
        {
            return;
        }

        string name = CallbackName.Of(callback);
        if (state is not null and not Delegate)
        {
            name += $" (state: {state.GetType().FullName})";
        }

        EventLoopLog.SlowCallback(_logger, name, elapsedTicks * 1000.0 / Stopwatch.Frequency, _thresholdTicks * 1000.0 / Stopwatch.Frequency);
    }
}
