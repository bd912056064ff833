namespace EventIO.Net;

/// <summary>Settings for a <see cref="UdpServer"/>.</summary>
public sealed class UdpServerOptions
{
    /// <summary>The most datagrams handled per readiness event (64), so one flood cannot starve the loop.</summary>
    public int ReceiveBudget { get; init; } = 64;

    /// <summary>
    /// Datagrams received per system call (<c>recvmmsg</c>) and replies sent per call (<c>sendmmsg</c>, flushed
    /// at the end of each batch): 32, at most 64. 1 keeps the one-datagram path (<c>recvfrom</c>/<c>sendto</c>),
    /// for comparison.
    /// </summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Bind with SO_REUSEPORT (false).</summary>
    public bool ReusePort { get; init; }

    /// <summary>The socket's receive buffer (SO_RCVBUF) in bytes; 0 keeps the system default.</summary>
    public int ReceiveBufferSize { get; init; }

    /// <summary>
    /// Datagrams handled per second per source address; 0 (the default) turns the limit off. Over it, a
    /// datagram is dropped unanswered before <see cref="UdpServer.OnDatagram"/> sees it, and counted in
    /// <see cref="UdpServer.RateLimitedDatagrams"/>. For servers on a public address, where any reply can be
    /// reflected at a spoofed victim. Per server and loop: with several loops a source spread over several
    /// ports may get this much from each.
    /// </summary>
    public int RateLimit { get; init; }

    /// <summary>Datagrams a quiet source may send at once before <see cref="RateLimit"/> applies; 0 (the default): one second's worth.</summary>
    public int RateLimitBurst { get; init; }

    /// <summary>
    /// Source addresses the rate limit remembers (16384, about 40 bytes each, allocated only when the limit is
    /// on); the least recently seen is forgotten for a new one, so a flood of spoofed sources cannot grow memory.
    /// </summary>
    public int RateLimitSources { get; init; } = 16384;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(RateLimit, nameof(RateLimit));
        ArgumentOutOfRangeException.ThrowIfNegative(RateLimitBurst, nameof(RateLimitBurst));
        ArgumentOutOfRangeException.ThrowIfLessThan(RateLimitSources, 1, nameof(RateLimitSources));
        ArgumentOutOfRangeException.ThrowIfLessThan(ReceiveBudget, 1, nameof(ReceiveBudget));
        ArgumentOutOfRangeException.ThrowIfNegative(ReceiveBufferSize, nameof(ReceiveBufferSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(BatchSize, Interop.DatagramBatch.Capacity, nameof(BatchSize));
    }
}
