using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.Sockets;
using EventIO.Net;

namespace EventIO.Diagnostics;

/// <summary>
/// What a <see cref="TcpServer"/> records itself, once per connection as it closes: its lifetime in
/// <c>eventio.tcp.connection.duration</c>, with <c>error.type</c> when it ended in error (Kestrel's rule:
/// a reset, a timeout, a queue that would overflow; not a close either side asked for).
/// </summary>
internal sealed class TcpServerMetrics(Histogram<double> duration, string server, EventIOMetrics metrics)
{
    /// <summary>On the connection's loop thread, after it closed. Nothing runs unless someone listens.</summary>
    internal void ConnectionClosed(TcpConnection connection)
    {
        if (!duration.Enabled)
        {
            return;
        }

        double seconds = Stopwatch.GetElapsedTime(connection.OpenedAt).TotalSeconds;
        TagList tags = metrics.TagsOf(connection, server);
        if (ErrorType(connection) is { } error)
        {
            tags.Add(EventIOMetrics.ErrorTypeTag, error);
        }

        duration.Record(seconds, tags);
    }

    /// <summary>OpenTelemetry's <c>error.type</c> for how <paramref name="connection"/> ended, or null when that was not an error.</summary>
    internal static string? ErrorType(TcpConnection connection) => connection.CloseReason switch
    {
        TcpCloseReason.SocketError => connection.Error switch
        {
            SocketError.ConnectionReset => "connection_reset",
            SocketError.ConnectionAborted => "connection_aborted",
            SocketError.TimedOut => "timed_out",
            SocketError.Shutdown => "broken_pipe",
            SocketError.HostUnreachable => "host_unreachable",
            SocketError.NetworkUnreachable => "network_unreachable",
            _ => "socket_error",
        },
        TcpCloseReason.IdleTimeout => "idle_timeout",
        TcpCloseReason.SendQueueFull => "send_queue_full",
        TcpCloseReason.DrainTimeout => "drain_timeout",
        _ => null, // Completed, Local: a close either side asked for
    };
}
