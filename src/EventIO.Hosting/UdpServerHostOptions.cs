namespace EventIO.Hosting;

/// <summary>
/// One UDP server of <c>AddUdpServer</c>: bound from the section
/// <c>EventIO:Servers:NAME</c> over what code sets, validated when the host starts.
/// </summary>
public sealed class UdpServerHostOptions
{
    /// <summary>The address to bind, as text: an IPv4 or IPv6 address, <c>localhost</c>, or <c>*</c> for every IPv4 address (127.0.0.1).</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>The port; 0 picks a free one.</summary>
    public int Port { get; set; }

    /// <summary>Datagrams per <c>recvmmsg</c> and replies per <c>sendmmsg</c> (32; 1 to 64).</summary>
    public int BatchSize { get; set; } = 32;

    /// <summary>The most datagrams handled per readiness event (64).</summary>
    public int ReceiveBudget { get; set; } = 64;

    /// <summary>The socket's receive buffer in bytes (SO_RCVBUF); 0 keeps the system's default.</summary>
    public int ReceiveBufferSize { get; set; }

    /// <summary>
    /// Datagrams handled per second per source address (a token bucket per source in a bounded
    /// least-recently-used table); 0, the default: no limit. Over it a datagram is dropped unanswered and
    /// counted. Set it on a public address, where any reply can be reflected at a spoofed victim.
    /// </summary>
    public int RateLimit { get; set; }

    /// <summary>Datagrams a quiet source may send at once before <see cref="RateLimit"/> applies; 0: one second's worth.</summary>
    public int RateLimitBurst { get; set; }
}
