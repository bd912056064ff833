namespace EventIO.Net;

/// <summary>Limits of one <see cref="TcpConnection"/>: back-pressure watermarks and the read budget.</summary>
public sealed class TcpConnectionOptions
{
    /// <summary>The defaults: 1 MiB high watermark, 256 KiB low watermark, 4 reads per turn.</summary>
    public static TcpConnectionOptions Default { get; } = new();

    /// <summary>Above this many queued unsent bytes the connection stops reading its peer (1 MiB).</summary>
    public int HighWatermark { get; init; } = 1024 * 1024;

    /// <summary>Once the queue drains to this many bytes the connection reads again (256 KiB).</summary>
    public int LowWatermark { get; init; } = 256 * 1024;

    /// <summary>
    /// The most receives per readiness event, so that one busy peer cannot starve the others
    /// (4 × the loop's 64 KiB buffer = 256 KiB per turn).
    /// </summary>
    public int MaxReadsPerTurn { get; init; } = 4;

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
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxReadsPerTurn, 1, nameof(MaxReadsPerTurn));
        ArgumentOutOfRangeException.ThrowIfLessThan(LingerTimeout, TimeSpan.Zero, nameof(LingerTimeout));
    }
}
