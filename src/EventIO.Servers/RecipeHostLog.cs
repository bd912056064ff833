using Microsoft.Extensions.Logging;

namespace EventIO.Servers;

/// <summary>The host's log messages (source-generated, no allocation when the level is off).</summary>
internal static partial class RecipeHostLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "{Server} totals: {Received} datagrams received, {Sent} replies sent, {Dropped} replies dropped, {ReceiveErrors} receive errors")]
    internal static partial void UdpTotals(ILogger logger, string server, long received, long sent, long dropped, long receiveErrors);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "udp-fib totals: {Invalid} invalid requests, {Busy} refused as busy, {Unanswered} unanswered at exit")]
    internal static partial void FibonacciTotals(ILogger logger, long invalid, long busy, int unanswered);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "{Server} totals: {Accepted} connections accepted, {Rejected} turned away, {IdleClosed} closed when idle, {AcceptPauses} accept pauses")]
    internal static partial void TcpTotals(ILogger logger, string server, long accepted, long rejected, long idleClosed, long acceptPauses);
}
