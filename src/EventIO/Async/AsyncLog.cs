using Microsoft.Extensions.Logging;

namespace EventIO.Async;

/// <summary>Log messages of the awaitable building blocks (source-generated). EventIds 1200–1299.</summary>
internal static partial class AsyncLog
{
    [LoggerMessage(EventId = 1200, Level = LogLevel.Error, Message = "The task of connection {RemoteEndPoint} failed; the connection was closed")]
    internal static partial void ConnectionTaskFailed(ILogger logger, string remoteEndPoint, Exception exception);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Debug, Message = "The task of connection {RemoteEndPoint} ended with its connection's close ({Reason})")]
    internal static partial void ConnectionTaskEndedByClose(ILogger logger, string remoteEndPoint, string reason);
}
