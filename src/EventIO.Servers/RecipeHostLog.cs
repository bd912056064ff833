using Microsoft.Extensions.Logging;

namespace EventIO.Servers;

/// <summary>The host's log messages (source-generated, no allocation when the level is off). EventIds 2000–2099.</summary>
internal static partial class RecipeHostLog
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "{Server} totals: {Received} datagrams received, {Sent} replies sent, {Dropped} replies dropped, {ReceiveErrors} receive errors")]
    internal static partial void UdpTotals(ILogger logger, string server, long received, long sent, long dropped, long receiveErrors);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "{Server} totals: {Invalid} invalid requests, {Busy} refused as busy, {Unanswered} unanswered at exit")]
    internal static partial void FibonacciTotals(ILogger logger, string server, long invalid, long busy, int unanswered);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "{Server} totals: {Accepted} connections accepted, {Rejected} turned away, {IdleClosed} closed when idle, {QueueFull} closed for a full send queue, {AcceptPauses} accept pauses")]
    internal static partial void TcpTotals(ILogger logger, string server, long accepted, long rejected, long idleClosed, long queueFull, long acceptPauses);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "{Summary}")]
    internal static partial void MetricsSummary(ILogger logger, string summary);
}
