using Microsoft.Extensions.Logging;

namespace EventIO.Servers;

/// <summary>The host's log messages (source-generated, no allocation when the level is off). EventIds 2000–2099.</summary>
internal static partial class RecipeHostLog
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "{Server} totals: {Received} datagrams received, {Sent} replies sent, {Dropped} replies dropped, {ReceiveErrors} receive errors")]
    internal static partial void UdpTotals(ILogger logger, string server, long received, long sent, long dropped, long receiveErrors);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "{Server} totals: {Invalid} invalid requests, {Busy} refused as busy, {Unanswered} unanswered at exit")]
    internal static partial void FibonacciTotals(ILogger logger, string server, long invalid, long busy, int unanswered);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Information, Message = "workers ({Priority}{Unprivileged}): {Completed} items run, {Promotions} promoted while starved, {Demotions} sent back to idle priority when a loop waited, {Retired} threads retired")]
    internal static partial void WorkerTotals(ILogger logger, string priority, string unprivileged, long completed, long promotions, long demotions, long retired);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "{Server} totals: {Accepted} connections accepted, {Rejected} turned away, {IdleClosed} closed when idle, {QueueFull} closed for a full send queue, {AcceptPauses} accept pauses{ByLoop}")]
    internal static partial void TcpTotals(ILogger logger, string server, long accepted, long rejected, long idleClosed, long queueFull, long acceptPauses, string byLoop);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "descriptor limit {Soft} (hard limit {Hard}; soft limit raised from {Previous})")]
    internal static partial void DescriptorLimitRaised(ILogger logger, long soft, long hard, long previous);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Debug, Message = "descriptor limit {Soft} (hard limit {Hard})")]
    internal static partial void DescriptorLimit(ILogger logger, long soft, long hard);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "the hard descriptor limit {Hard} is below what --max-connections {MaxConnections} needs (about {Needed}: one per connection and {Overhead} for the process): past {Usable} connections, accepts pause and clients are shed; raise it (ulimit -Hn as root, LimitNOFILE= in a systemd unit) or lower --max-connections")]
    internal static partial void DescriptorLimitTooLow(ILogger logger, long hard, int maxConnections, long needed, int overhead, long usable);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "{Summary}")]
    internal static partial void MetricsSummary(ILogger logger, string summary);
}
