using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using EventIO.Interop;
using EventIO.Timers;

namespace EventIO.Net;

/// <summary>
/// One accepted TCP connection: the recipe's <c>TCPClient</c>. Subclasses implement
/// <see cref="OnReceived"/> and answer with <see cref="Send"/>.
/// </summary>
/// <remarks>
/// <para><b>Receiving:</b> into the loop's shared <see cref="EventLoop.ReceiveBuffer"/>, at most
/// <see cref="TcpConnectionOptions.MaxReadsPerTurn"/> reads per readiness event; an idle connection holds
/// no receive buffer.</para>
/// <para><b>Sending:</b> <see cref="Send"/> writes straight to the socket when nothing is queued and
/// queues only the unsent rest, in pooled segments. Above <see cref="TcpConnectionOptions.HighWatermark"/>
/// queued bytes the connection stops reading its peer, and resumes at
/// <see cref="TcpConnectionOptions.LowWatermark"/>: memory stays bounded whatever the peer does. Sends
/// never raise SIGPIPE (.NET sends with MSG_NOSIGNAL).</para>
/// <para><b>Closing:</b> at the peer's end of stream, <see cref="OnPeerClosed"/> (by default: flush what
/// is queued, then close); on a reset or any other socket error, at once. <see cref="CloseWhenFlushed"/>
/// closes gracefully (flush, FIN, linger for the peer's FIN). <see cref="Close"/> is idempotent, removes
/// the connection from the loop and disposes the socket.</para>
/// <para><b>Threading:</b> loop thread only, like every handler.</para>
/// </remarks>
public abstract class TcpConnection : IEventHandler, IDisposable
{
    private readonly Socket _socket;
    private readonly TcpConnectionOptions _options;
    private readonly OutgoingBuffer _outgoing = new();
    private bool _readPaused;        // back-pressure: too much queued
    private bool _peerClosed;        // read end of stream
    private bool _closeWhenFlushed;  // graceful close requested
    private bool _lingering;         // flushed and sent FIN; discarding input until the peer's FIN
    private TimerHandle? _lingerTimer;

    private static readonly Action<object?> s_lingerExpired = static s => ((TcpConnection)s!).Close();
    private static readonly Action<object?> s_checkIdle = static s => ((TcpConnection)s!).CheckIdle();

    private long _idleTicks;         // idle timeout in Stopwatch ticks; 0: off
    private long _lastReceived;      // loop clock at the last byte received
    private TimerHandle? _idleTimer;

    /// <summary>Wraps an accepted, connected <paramref name="socket"/>, which this connection now owns.</summary>
    protected TcpConnection(EventLoop loop, Socket socket, TcpConnectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(socket);
        _options = options ?? TcpConnectionOptions.Default;
        _options.Validate();
        Loop = loop;
        _socket = socket;
        _socket.Blocking = false;
    }

    /// <summary>The loop this connection belongs to.</summary>
    public EventLoop Loop { get; }

    /// <summary>The connection's socket. Do not close it directly; call <see cref="Close"/>.</summary>
    protected Socket Socket => _socket;

    /// <summary>The peer's address, or null once closed.</summary>
    public EndPoint? RemoteEndPoint => IsClosed ? null : _socket.RemoteEndPoint;

    /// <summary>True once <see cref="Close"/> has run.</summary>
    public bool IsClosed { get; private set; }

    /// <summary>Bytes accepted by <see cref="Send"/> and not yet written to the socket.</summary>
    public long QueuedBytes => _outgoing.Length;

    /// <summary>True while reading is paused because too much is queued (back-pressure).</summary>
    public bool IsReadPaused => _readPaused;

    /// <inheritdoc/>
    public SafeHandle Handle => _socket.SafeHandle;

    /// <inheritdoc/>
    public bool WantsToReceive => !IsClosed && (_lingering || (!_readPaused && !_peerClosed && !_closeWhenFlushed));

    /// <inheritdoc/>
    public bool WantsToSend => !_outgoing.IsEmpty;

    /// <summary>True if the connection was closed because its peer sent nothing for the idle timeout.</summary>
    public bool ClosedForIdleness { get; private set; }

    /// <summary>Set by the <see cref="TcpServer"/> that accepted this connection.</summary>
    internal TcpServer? Owner { get; set; }

    /// <inheritdoc/>
    public void HandleReceive()
    {
        if (_lingering)
        {
            Discard();
            return;
        }

        for (int reads = 0; reads < _options.MaxReadsPerTurn && WantsToReceive; reads++)
        {
            Span<byte> buffer = Loop.ReceiveBuffer;
            int n = StreamCalls.Receive(_socket.SafeHandle, buffer);
            if (n < 0)
            {
                if (!IsTransient(n))
                {
                    Close(); // reset or other failure: nothing more can be delivered
                }

                return;
            }

            if (n == 0)
            {
                _peerClosed = true;
                OnPeerClosed();
                return;
            }

            _lastReceived = Loop.TurnTimestamp;
            OnReceived(buffer[..n]);
            if (n < buffer.Length)
            {
                return; // drained: skip the read that would only say EAGAIN
            }
        }
    }

    /// <inheritdoc/>
    public void HandleSend() => Flush();

    /// <summary>
    /// Sends <paramref name="data"/>: written at once as far as the socket takes it, the rest queued and
    /// written when the socket is writable. Never blocks; order is preserved.
    /// </summary>
    /// <returns>False if the connection is closed (or closing) and the data was dropped.</returns>
    public bool Send(ReadOnlySpan<byte> data)
    {
        if (IsClosed || _closeWhenFlushed)
        {
            return false;
        }

        if (_outgoing.IsEmpty && !data.IsEmpty)
        {
            int sent = StreamCalls.Send(_socket.SafeHandle, data);
            if (sent >= 0)
            {
                data = data[sent..];
            }
            else if (!IsTransient(sent))
            {
                Close();
                return false;
            }
        }

        if (!data.IsEmpty)
        {
            bool wasEmpty = _outgoing.IsEmpty;
            _outgoing.Append(data);
            bool pause = !_readPaused && _outgoing.Length >= _options.HighWatermark;
            _readPaused |= pause;
            if (wasEmpty || pause)
            {
                Loop.Update(this);
            }
        }

        return true;
    }

    /// <summary>
    /// Graceful close: stops processing input, lets everything queued reach the peer, then closes. If the
    /// peer has not ended its side yet, the connection first sends FIN and discards input until the peer's
    /// FIN (at most <see cref="TcpConnectionOptions.LingerTimeout"/>), so that closing with unread input
    /// does not turn into a reset that could destroy the reply in flight. Idempotent.
    /// </summary>
    public void CloseWhenFlushed()
    {
        if (IsClosed || _closeWhenFlushed)
        {
            return;
        }

        _closeWhenFlushed = true;
        if (_outgoing.IsEmpty)
        {
            FinishGracefulClose();
        }
        else
        {
            Loop.Update(this);
        }
    }

    /// <summary>
    /// Closes at once: removes the connection from the loop, drops anything queued and disposes the
    /// socket. Idempotent. Loop thread only.
    /// </summary>
    public void Close()
    {
        if (IsClosed)
        {
            return;
        }

        IsClosed = true;
        _lingerTimer?.Cancel();
        _idleTimer?.Cancel();
        Loop.Remove(this); // before the descriptor is closed, so its number can be reused safely
        _socket.Dispose();
        _outgoing.Dispose();
        Owner?.Release(this);
        OnClosed();
    }

    /// <summary>Same as <see cref="Close"/>.</summary>
    public void Dispose()
    {
        Close();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// Called with bytes received from the peer. <paramref name="data"/> is lent by the loop: consume or
    /// copy it before returning.
    /// </summary>
    protected abstract void OnReceived(ReadOnlySpan<byte> data);

    /// <summary>
    /// Called once when the peer ends its side of the stream. The default flushes what is queued and
    /// then closes (the recipe closed at once and lost it).
    /// </summary>
    protected virtual void OnPeerClosed() => CloseWhenFlushed();

    /// <summary>Called once, after the connection is closed.</summary>
    protected virtual void OnClosed()
    {
    }

    private void Flush()
    {
        while (!_outgoing.IsEmpty)
        {
            ReadOnlySpan<byte> chunk = _outgoing.FirstSpan;
            int sent = StreamCalls.Send(_socket.SafeHandle, chunk);
            if (sent < 0)
            {
                if (IsTransient(sent))
                {
                    break; // full: the watermark check below still runs
                }

                Close();
                return;
            }

            _outgoing.Consume(sent);
            if (sent < chunk.Length)
            {
                break; // the socket buffer is full: skip the send that would only say EAGAIN
            }
        }

        if (_readPaused && _outgoing.Length <= _options.LowWatermark)
        {
            _readPaused = false;
        }

        if (_outgoing.IsEmpty && _closeWhenFlushed)
        {
            FinishGracefulClose();
        }
    }

    /// <summary>
    /// Closes the connection once its peer has sent nothing for <paramref name="timeout"/>. O(1) per read:
    /// a read only stamps the time; one timer per connection checks the stamp when it fires and re-arms
    /// for the rest. Loop thread only.
    /// </summary>
    internal void SetIdleTimeout(TimeSpan timeout)
    {
        _idleTicks = Math.Max(1, EventLoop.ToTimestampTicks(timeout));
        _lastReceived = System.Diagnostics.Stopwatch.GetTimestamp();
        _idleTimer = Loop.CallLater(timeout, s_checkIdle, this);
    }

    private void CheckIdle()
    {
        if (IsClosed)
        {
            return;
        }

        long due = _lastReceived + _idleTicks;
        if (System.Diagnostics.Stopwatch.GetTimestamp() >= due)
        {
            ClosedForIdleness = true;
            Close();
            return;
        }

        _idleTimer = Loop.CallAt(due, s_checkIdle, this);
    }

    private void FinishGracefulClose()
    {
        if (_peerClosed)
        {
            Close(); // the peer sends nothing more: a plain close is clean
            return;
        }

        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            Close();
            return;
        }

        _lingering = true;
        _lingerTimer = Loop.CallLater(_options.LingerTimeout, s_lingerExpired, this);
        Loop.Update(this);
    }

    // Lingering: read and drop until the peer's FIN (or an error), then close.
    private void Discard()
    {
        Span<byte> buffer = Loop.ReceiveBuffer;
        for (int reads = 0; reads < _options.MaxReadsPerTurn; reads++)
        {
            int n = StreamCalls.Receive(_socket.SafeHandle, buffer);
            if (n < 0 && IsTransient(n))
            {
                return;
            }

            if (n <= 0)
            {
                Close();
                return;
            }
        }
    }

    // -EAGAIN (nothing now) and -EINTR: try again when the loop next reports readiness.
    private static bool IsTransient(int negativeErrno) => negativeErrno is -Libc.EAGAIN or -Libc.EINTR;
}
