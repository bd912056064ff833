namespace EventIO.Net;

/// <summary>Settings for a <see cref="UdpServer"/>.</summary>
public sealed class UdpServerOptions
{
    /// <summary>The most datagrams handled per readiness event (64), so one flood cannot starve the loop.</summary>
    public int ReceiveBudget { get; init; } = 64;

    /// <summary>Bind with SO_REUSEPORT (false).</summary>
    public bool ReusePort { get; init; }

    /// <summary>The socket's receive buffer (SO_RCVBUF) in bytes; 0 keeps the system default.</summary>
    public int ReceiveBufferSize { get; init; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ReceiveBudget, 1, nameof(ReceiveBudget));
        ArgumentOutOfRangeException.ThrowIfNegative(ReceiveBufferSize, nameof(ReceiveBufferSize));
    }
}
