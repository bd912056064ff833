using Microsoft.Extensions.Logging;

namespace EventIO;

/// <summary>The loop's log messages (source-generated, no allocation when the level is off). EventIds 1000–1099.</summary>
internal static partial class EventLoopLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Error, Message = "Handler {HandlerType} threw; it was removed and closed")]
    internal static partial void HandlerFailed(ILogger logger, string handlerType, Exception exception);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Error, Message = "A posted action or timer callback threw")]
    internal static partial void CallbackFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Descriptor {Descriptor} was reused while {HandlerType} still held it: that handler closed its handle without leaving the loop and was dropped")]
    internal static partial void DescriptorReused(ILogger logger, int descriptor, string handlerType);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Error, Message = "Closing handler {HandlerType} threw")]
    internal static partial void CloseFailed(ILogger logger, string handlerType, Exception exception);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Slow callback: {Callback} held the loop for {ElapsedMs:F1} ms (threshold {ThresholdMs:F0} ms); every other handler waited")]
    internal static partial void SlowCallback(ILogger logger, string callback, double elapsedMs, double thresholdMs);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "io_uring is not available here ({Reason}): the loops use epoll")]
    internal static partial void BackendFallback(ILogger logger, string reason);
}
