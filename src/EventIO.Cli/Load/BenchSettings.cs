using System.Net;

namespace EventIO.Cli.Load;

/// <summary>One load run, as the options gave it (already validated).</summary>
/// <param name="Protocol">TCP connections or connected UDP sockets.</param>
/// <param name="Server">The echo server.</param>
/// <param name="Connections">TCP connections, or UDP sockets.</param>
/// <param name="Size">Bytes per message, at least 16.</param>
/// <param name="Pipeline">Messages in flight per connection.</param>
/// <param name="Duration">The measured window.</param>
/// <param name="Warmup">Load before the measured window, not counted.</param>
/// <param name="Timeout">UDP: no reply after this long and a datagram counts as lost. TCP: connect timeout.</param>
internal sealed record BenchSettings(
    BenchProtocol Protocol,
    IPEndPoint Server,
    int Connections,
    int Size,
    int Pipeline,
    TimeSpan Duration,
    TimeSpan Warmup,
    TimeSpan Timeout)
{
    /// <summary><c>tcp</c> or <c>udp</c>.</summary>
    internal string ProtocolName => Protocol == BenchProtocol.Tcp ? "tcp" : "udp";
}
