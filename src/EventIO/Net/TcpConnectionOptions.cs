namespace EventIO.Net;

/// <summary>Limits of one <see cref="TcpConnection"/>: the send queue, back-pressure, the read budget and the close deadlines.</summary>
public sealed class TcpConnectionOptions
{
    /// <summary>The defaults: 1 MiB high and 256 KiB low watermark, 4 MiB hard cap (close), 4 reads per turn, 30 s drain, 2 s linger.</summary>
    public static TcpConnectionOptions Default { get; } = new();

    /// <summary>
    /// At this many queued unsent bytes the connection becomes unwritable (<see cref="TcpConnection.IsWritable"/>,
    /// <see cref="TcpConnection.OnWritabilityChanged"/>) and stops reading its own peer (1 MiB).
    /// </summary>
    public int HighWatermark { get; init; } = 1024 * 1024;

    /// <summary>Once the queue drains to this many bytes the connection is writable again and reads again (256 KiB).</summary>
    public int LowWatermark { get; init; } = 256 * 1024;

    /// <summary>
    /// The hard cap on queued unsent bytes (4 MiB): a <see cref="TcpConnection.Send"/> that would queue more
    /// is handled by <see cref="SendOverflow"/>. It bounds what other connections can pile up on a peer that
    /// never reads (fan-out), where the watermark cannot help. At least <see cref="HighWatermark"/>.
    /// </summary>
    public int MaxQueuedBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>What a send past <see cref="MaxQueuedBytes"/> does (<see cref="SendOverflowPolicy.Close"/>).</summary>
    public SendOverflowPolicy SendOverflow { get; init; } = SendOverflowPolicy.Close;

    /// <summary>
    /// The most receives per readiness event, so that one busy peer cannot starve the others
    /// (4 × the loop's 64 KiB buffer = 256 KiB per turn).
    /// </summary>
    public int MaxReadsPerTurn { get; init; } = 4;

    /// <summary>How long a graceful close may take to flush what is queued before the connection is closed at once (30 s).</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a graceful close waits for the peer's FIN after sending its own, discarding input, before
    /// closing anyway (2 s).
    /// </summary>
    public TimeSpan LingerTimeout { get; init; } = TimeSpan.FromSeconds(2);

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(HighWatermark, 1, nameof(HighWatermark));
        ArgumentOutOfRangeException.ThrowIfNegative(LowWatermark, nameof(LowWatermark));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(LowWatermark, HighWatermark, nameof(LowWatermark));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueuedBytes, HighWatermark, nameof(MaxQueuedBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxReadsPerTurn, 1, nameof(MaxReadsPerTurn));
        ArgumentOutOfRangeException.ThrowIfLessThan(DrainTimeout, TimeSpan.Zero, nameof(DrainTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(LingerTimeout, TimeSpan.Zero, nameof(LingerTimeout));
        if (!Enum.IsDefined(SendOverflow))
        {
            throw new ArgumentOutOfRangeException(nameof(SendOverflow), SendOverflow, "Unknown send overflow policy.");
        }
    }
}
