using Microsoft.Extensions.Logging;

namespace EventIO.Hosting;

/// <summary>The hosted service's log messages (source-generated). EventIds 3000–3099.</summary>
internal static partial class HostingLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "listening {Name} {Protocol} {EndPoint}")]
    internal static partial void Listening(ILogger logger, string name, string protocol, System.Net.IPEndPoint endPoint);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "EventIO started {Loops} loop(s)")]
    internal static partial void Started(ILogger logger, int loops);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "EventIO stopping: closing UDP servers, draining {Connections} TCP connection(s)")]
    internal static partial void Stopping(ILogger logger, int connections);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "EventIO: the host's shutdown timeout passed with {Connections} connection(s) still draining; closing them now")]
    internal static partial void StopTimedOut(ILogger logger, int connections);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information, Message = "EventIO stopped")]
    internal static partial void Stopped(ILogger logger);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Critical, Message = "EventIO: an event loop failed; stopping the application")]
    internal static partial void LoopFailed(ILogger logger, Exception exception);
}
