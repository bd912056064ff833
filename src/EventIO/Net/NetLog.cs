using Microsoft.Extensions.Logging;

namespace EventIO.Net;

/// <summary>Log messages of the building blocks (source-generated).</summary>
internal static partial class NetLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Warning, Message = "TCP server {EndPoint}: out of file descriptors ({Error}); pausing accept for {DelayMs} ms")]
    internal static partial void AcceptPaused(ILogger logger, string endPoint, System.Net.Sockets.SocketError error, double delayMs);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "TCP server {EndPoint}: accepting again after running out of descriptors")]
    internal static partial void AcceptResumed(ILogger logger, string endPoint);

    [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "TCP server {EndPoint}: could not set up an accepted connection; it was closed")]
    internal static partial void ConnectionSetupFailed(ILogger logger, string endPoint, Exception exception);

    [LoggerMessage(EventId = 103, Level = LogLevel.Debug, Message = "TCP server {EndPoint}: accept failed ({Error})")]
    internal static partial void AcceptFailed(ILogger logger, string endPoint, System.Net.Sockets.SocketError error);
}
