using EventIO.Diagnostics;
using EventIO.Polling;
using Microsoft.Extensions.Logging;

namespace EventIO;

/// <summary>Settings for an <see cref="EventLoop"/>. Every property has a sensible default.</summary>
public sealed class EventLoopOptions
{
    /// <summary>The readiness backend. Default: epoll on Linux.</summary>
    public PollerBackend Backend { get; init; } = PollerBackend.Default;

    /// <summary>
    /// The most readiness events taken from the kernel per turn (1024, as libuv and mio). More ready
    /// handlers are served on the next turn; level-triggered readiness loses nothing.
    /// </summary>
    public int MaxEventsPerTurn { get; init; } = 1024;

    /// <summary>Size of the receive buffer the loop lends to handlers (64 KiB, the largest UDP datagram fits; at least 1 KiB).</summary>
    public int ReceiveBufferSize { get; init; } = 64 * 1024;

    /// <summary>
    /// A handler call, timer or posted action that holds the loop longer than this is logged as a warning
    /// with its type and the time it took (100 ms, as asyncio's debug mode). <see cref="Timeout.InfiniteTimeSpan"/>
    /// turns the check off.
    /// </summary>
    public TimeSpan SlowCallbackThreshold { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Where handler failures and warnings go. Default: warnings and errors on stderr, so that an exception
    /// is never silent; <c>NullLogger.Instance</c> drops them.
    /// </summary>
    public ILogger? Logger { get; init; }

    /// <summary>
    /// Watches every turn: what the kernel was told, the wait, the ready set, each dispatch, timers and posted
    /// actions (<see cref="LoopTraceWriter"/> prints them as text or JSON). Null (the default): no tracing, and no
    /// cost beyond a null check per callback. The <c>EventIO</c> event source gets the same events whenever a
    /// session listens, with or without this.
    /// </summary>
    public LoopTracer? Tracer { get; init; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxEventsPerTurn, 1, nameof(MaxEventsPerTurn));
        ArgumentOutOfRangeException.ThrowIfLessThan(ReceiveBufferSize, 1024, nameof(ReceiveBufferSize));
        if (SlowCallbackThreshold != Timeout.InfiniteTimeSpan)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(SlowCallbackThreshold, TimeSpan.Zero, nameof(SlowCallbackThreshold));
        }
    }
}
