using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace EventIO.Net;

/// <summary>Log messages of the building blocks (source-generated). EventIds 1100–1199.</summary>
internal static partial class NetLog
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "TCP server {EndPoint}: out of file descriptors ({Error}); pausing accept for {DelayMs} ms")]
    internal static partial void AcceptPaused(ILogger logger, string endPoint, SocketError error, double delayMs);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "TCP server {EndPoint}: accepting again after running out of descriptors")]
    internal static partial void AcceptResumed(ILogger logger, string endPoint);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Error, Message = "TCP server {EndPoint}: could not set up an accepted connection; it was closed")]
    internal static partial void ConnectionSetupFailed(ILogger logger, string endPoint, Exception exception);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Debug, Message = "TCP server {EndPoint}: accept failed ({Error})")]
    internal static partial void AcceptFailed(ILogger logger, string endPoint, SocketError error);
}
