namespace EventIO.Net;

/// <summary>
/// Where a <see cref="TcpConnection"/> is in its life. The legal transitions:
/// <code>
/// Open ⇄ ReadPaused            (queue above the high watermark / down to the low one)
/// Open, ReadPaused → PeerClosed (the peer's end of stream)
/// Open, ReadPaused, PeerClosed → Draining   (CloseWhenFlushed with bytes queued)
/// Draining → Lingering         (flushed, FIN sent; the peer's side was still open)
/// any → Closed                 (Close, an error, a deadline, or the graceful close completing)
/// </code>
/// </summary>
public enum TcpConnectionState
{
    /// <summary>Reading the peer and sending.</summary>
    Open,

    /// <summary>Sending, not reading: more than the high watermark is queued (back-pressure on this peer).</summary>
    ReadPaused,

    /// <summary>The peer ended its side of the stream; the connection may still send (a half-close).</summary>
    PeerClosed,

    /// <summary>Closing gracefully: reading nothing, flushing what is queued, within the drain deadline.</summary>
    Draining,

    /// <summary>Flushed and FIN sent; discarding input until the peer's FIN or the linger deadline.</summary>
    Lingering,

    /// <summary>Closed: removed from the loop, socket closed, queued bytes dropped.</summary>
    Closed,
}
