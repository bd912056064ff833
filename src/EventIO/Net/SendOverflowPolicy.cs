namespace EventIO.Net;

/// <summary>What <see cref="TcpConnection.Send"/> does when the bytes would queue more than <see cref="TcpConnectionOptions.MaxQueuedBytes"/>.</summary>
public enum SendOverflowPolicy
{
    /// <summary>
    /// Close the connection (counted as <see cref="TcpCloseReason.SendQueueFull"/>) and return false: a peer
    /// that reads slower than the application writes to it is dropped, as Redis's output-buffer limit and
    /// IRC's "SendQ exceeded" do, so a plain broadcast loop stays bounded with no per-member checks.
    /// </summary>
    Close,

    /// <summary>Return false and queue none of the bytes; the connection stays open and the application decides (drop, retry later).</summary>
    Refuse,
}
