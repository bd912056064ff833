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

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ReceiveBudget, 1, nameof(ReceiveBudget));
        ArgumentOutOfRangeException.ThrowIfNegative(ReceiveBufferSize, nameof(ReceiveBufferSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(BatchSize, Interop.DatagramBatch.Capacity, nameof(BatchSize));
    }
}
