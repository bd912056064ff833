namespace EventIO.Net;

/// <summary>Why a <see cref="TcpConnection"/> closed (<see cref="TcpConnection.CloseReason"/>).</summary>
public enum TcpCloseReason
{
    /// <summary>Not closed yet.</summary>
    None,

    /// <summary>The application (or the loop, for a failed handler or at disposal) called Close.</summary>
    Local,

    /// <summary>A graceful close completed: everything queued was sent, after the peer's end of stream or <see cref="TcpConnection.CloseWhenFlushed()"/>.</summary>
    Completed,

    /// <summary>A reset or another socket error; <see cref="TcpConnection.Error"/> says which.</summary>
    SocketError,

    /// <summary>The peer sent nothing for the server's idle timeout.</summary>
    IdleTimeout,

    /// <summary>A send would have queued more than <see cref="TcpConnectionOptions.MaxQueuedBytes"/> (policy <see cref="SendOverflowPolicy.Close"/>).</summary>
    SendQueueFull,

    /// <summary>A graceful close could not flush what was queued within its deadline: the peer was not reading.</summary>
    DrainTimeout,
}
