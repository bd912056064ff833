using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using EventIO.Timers;

namespace EventIO.Net;

/// <summary>
/// One TCP connection: the recipe's <c>TCPClient</c>, as an explicit state machine
/// (<see cref="TcpConnectionState"/>). Subclasses implement <see cref="OnReceived"/> and answer with
/// <see cref="Send"/>.
/// </summary>
/// <remarks>
/// <para><b>Receiving:</b> into the loop's shared <see cref="EventLoop.ReceiveBuffer"/>, at most
/// <see cref="TcpConnectionOptions.MaxReadsPerTurn"/> reads per readiness event, and only while
/// <see cref="TcpConnectionState.Open"/>: once a callback closes, drains or pauses the connection, no
/// further <see cref="OnReceived"/> comes. An idle connection holds no receive buffer.</para>
/// <para><b>Sending:</b> <see cref="Send"/> writes straight to the socket when nothing is queued and queues
/// only the unsent rest, in pooled segments. At <see cref="TcpConnectionOptions.HighWatermark"/> queued bytes
/// the connection becomes unwritable and stops reading its peer; at the low watermark it is writable and
/// reads again (<see cref="OnWritabilityChanged"/> tells the application, as Netty's
/// <c>channelWritabilityChanged</c>). <see cref="TcpConnectionOptions.MaxQueuedBytes"/> is a hard cap, so
/// what other connections send to a peer that never reads stays bounded. Sends never raise SIGPIPE.</para>
/// <para><b>Closing:</b> at the peer's end of stream, <see cref="OnPeerClosed"/> (by default: flush, then
/// close); on a reset or any other socket error, at once. <see cref="CloseWhenFlushed()"/> closes gracefully
/// within a deadline. <see cref="LoopHandler.OnClosed"/> runs after the callback that closed the connection.</para>
/// <para><b>Threading:</b> loop thread only; <see cref="Send"/>, <see cref="LoopHandler.Close"/> and
/// <see cref="CloseWhenFlushed()"/> throw <see cref="InvalidOperationException"/> on another thread before
/// changing anything.</para>
/// </remarks>
public abstract partial class TcpConnection : LoopHandler
{
    private static readonly Action<object?> s_closeDeadline = static s => ((TcpConnection)s!).OnCloseDeadline();
    private static readonly Action<object?> s_checkIdle = static s => ((TcpConnection)s!).CheckIdle();
    private static readonly Action<object?> s_reportWritability = static s => ((TcpConnection)s!).ReportWritability();

    private readonly SafeSocketHandle _handle;
    private readonly TcpConnectionOptions _options;
    private readonly OutgoingBuffer _outgoing = new();
    private TcpConnectionState _state;
    private bool _lingerAfterDrain;     // data of Draining: the peer's side was still open when it began
    private bool _writable = true;      // false from the high watermark down to the low one
    private bool _writabilityReported = true;
    private bool _writabilityReportPending;
    private bool _receivePaused;        // a subclass asked to stop reading (its own buffer is full)
    private TimerHandle? _closeTimer;   // the deadline of Draining, then of Lingering
    private TimerHandle? _idleTimer;
    private long _idleTicks;            // 0: no idle timeout
    private long _lastReceived;         // loop clock at the last byte received, less the loop's stopped time then
    private Socket? _socket;            // made on first use of Socket, or given

    /// <summary>
    /// Wraps a connected socket's handle, which this connection now owns: the way <see cref="TcpServer"/>
    /// hands over an accepted connection (already non-blocking). Add it to a loop to start.
    /// </summary>
    protected TcpConnection(SafeSocketHandle socket, TcpConnectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _options = options ?? TcpConnectionOptions.Default;
        _options.Validate();
        _handle = socket;
    }

    /// <summary>Wraps a connected <paramref name="socket"/>, which this connection now owns (made non-blocking). Add it to a loop to start.</summary>
    protected TcpConnection(Socket socket, TcpConnectionOptions? options = null)
        : this((socket ?? throw new ArgumentNullException(nameof(socket))).SafeHandle, options)
    {
        socket.Blocking = false;
        _socket = socket;
    }

    /// <summary>Where the connection is in its life.</summary>
    public TcpConnectionState State => _state;

    /// <summary>True while closing gracefully (<see cref="TcpConnectionState.Draining"/> or <see cref="TcpConnectionState.Lingering"/>): sends are refused.</summary>
    public bool IsClosing => _state is TcpConnectionState.Draining or TcpConnectionState.Lingering;

    /// <summary>False from the moment <see cref="TcpConnectionOptions.HighWatermark"/> bytes are queued until the queue drains to the low watermark: slow your producers.</summary>
    public bool IsWritable => _writable;

    /// <summary>Bytes accepted by <see cref="Send"/> and not yet written to the socket (0 once closed: they were dropped).</summary>
    public long QueuedBytes => IsClosed ? 0 : _outgoing.Length;

    /// <summary>Why the connection closed; <see cref="TcpCloseReason.None"/> while it is not closed.</summary>
    public TcpCloseReason CloseReason { get; private set; }

    /// <summary>The socket error that closed the connection (<see cref="TcpCloseReason.SocketError"/>), else <see cref="SocketError.Success"/>.</summary>
    public SocketError Error { get; private set; }

    /// <summary>The peer's address, or null once closed.</summary>
    public EndPoint? RemoteEndPoint => IsClosed ? null : Socket.RemoteEndPoint;

    /// <inheritdoc/>
    public sealed override SafeHandle Handle => _handle;

    /// <inheritdoc/>
    public sealed override bool WantsToReceive => _ring is null && IsReading;

    /// <inheritdoc/>
    public sealed override bool WantsToSend => _ring is null && !_outgoing.IsEmpty;

    /// <summary>
    /// The connection's socket, for options and addresses; made on first use for an accepted connection
    /// (that reads the socket's properties back: a few system calls). Do not close it; call <see cref="LoopHandler.Close"/>.
    /// </summary>
    protected Socket Socket => _socket ??= new Socket(_handle);

    /// <summary>The server that accepted this connection, told when it closes.</summary>
    internal TcpServer? Owner { get; set; }

    /// <summary>The peer address counted against the server's per-address cap (released with the connection), if any.</summary>
    internal UInt128? LimitedAddress { get; set; }

    private int Descriptor => (int)_handle.DangerousGetHandle();

    /// <summary>The loop's clock (<see cref="EventLoop.Now"/>) when the connection was added: the start of <c>eventio.tcp.connection.duration</c>.</summary>
    internal long OpenedAt { get; private set; }

    /// <inheritdoc/>
    public sealed override void HandleReceive()
    {
        if (_state == TcpConnectionState.Lingering)
        {
            Discard();
            return;
        }

        Span<byte> buffer = Loop.ReceiveBuffer;
        for (int reads = 0; reads < _options.MaxReadsPerTurn && _state == TcpConnectionState.Open && !_receivePaused; reads++)
        {
            int n = SocketCalls.Receive(_handle, buffer, out SocketError error);
            if (n < 0)
            {
                CloseOnError(error);
                return;
            }

            if (n == 0)
            {
                EndOfStream();
                return;
            }

            Deliver(buffer[..n]);
            if (n < buffer.Length)
            {
                return; // drained: skip the read that would only say EAGAIN
            }
        }
    }

    /// <inheritdoc/>
    public sealed override void HandleSend() => Flush();

    /// <summary>
    /// Sends <paramref name="data"/>: written at once as far as the socket takes it, the rest queued and
    /// written when the socket is writable. Never blocks; order is preserved. Past
    /// <see cref="TcpConnectionOptions.MaxQueuedBytes"/> (counting all of <paramref name="data"/> as queued),
    /// <see cref="TcpConnectionOptions.SendOverflow"/> decides: close the connection, or refuse the bytes.
    /// </summary>
    /// <returns>False if nothing was sent: the connection is closed or closing, or the cap refused it.</returns>
    /// <exception cref="InvalidOperationException">Not on the loop thread, or not added to a loop yet.</exception>
    public bool Send(ReadOnlySpan<byte> data)
    {
        Loop.ThrowIfNotOnLoopThread();
        if (_state is TcpConnectionState.Draining or TcpConnectionState.Lingering or TcpConnectionState.Closed)
        {
            return false;
        }

        if (_outgoing.Length + data.Length > _options.MaxQueuedBytes)
        {
            if (_options.SendOverflow == SendOverflowPolicy.Close)
            {
                CloseWith(TcpCloseReason.SendQueueFull);
            }

            return false;
        }

        if (_outgoing.IsEmpty && !data.IsEmpty && _ring is null)
        {
            int sent = SocketCalls.Send(_handle, data, out SocketError error);
            if (sent < 0 && error != SocketError.WouldBlock)
            {
                CloseOnError(error);
                return false;
            }

            data = data[Math.Max(sent, 0)..];
        }

        if (!data.IsEmpty)
        {
            Enqueue(data);
        }

        return true;
    }

    /// <summary>Graceful close within <see cref="TcpConnectionOptions.DrainTimeout"/>; see <see cref="CloseWhenFlushed(TimeSpan)"/>.</summary>
    public void CloseWhenFlushed() => CloseWhenFlushed(_options.DrainTimeout);

    /// <summary>
    /// Graceful close: stops reading, lets everything queued reach the peer, then closes. If the peer has not
    /// ended its side, the connection first sends FIN and discards input until the peer's FIN (at most
    /// <see cref="TcpConnectionOptions.LingerTimeout"/>), so that unread input cannot turn the close into a
    /// reset that destroys the reply in flight. If the queue is not flushed within <paramref name="drainTimeout"/>
    /// (a peer that never reads), the connection is closed at once and the rest dropped. Idempotent.
    /// </summary>
    /// <exception cref="InvalidOperationException">Not on the loop thread.</exception>
    public void CloseWhenFlushed(TimeSpan drainTimeout)
    {
        if (!IsAttached)
        {
            Close();
            return;
        }

        Loop.ThrowIfNotOnLoopThread();
        if (_state is TcpConnectionState.Draining or TcpConnectionState.Lingering or TcpConnectionState.Closed)
        {
            return;
        }

        _lingerAfterDrain = _state != TcpConnectionState.PeerClosed;
        if (_outgoing.IsEmpty)
        {
            FinishDrain();
            return;
        }

        _state = TcpConnectionState.Draining;
        _closeTimer = Loop.CallLater(drainTimeout, s_closeDeadline, this);
        WantsChanged(); // stop reading
    }

    /// <summary>
    /// Called with bytes received from the peer. <paramref name="data"/> is lent by the loop: consume or
    /// copy it before returning.
    /// </summary>
    protected abstract void OnReceived(ReadOnlySpan<byte> data);

    /// <summary>Called once the connection is registered with its loop (a <see cref="TcpServer"/> adds each one it accepts): send a greeting, start timers.</summary>
    protected virtual void OnOpened()
    {
    }

    /// <summary>
    /// Called once when the peer ends its side of the stream (<see cref="TcpConnectionState.PeerClosed"/>).
    /// The default flushes what is queued and then closes (the recipe closed at once and lost it); override
    /// to keep sending on a half-closed connection.
    /// </summary>
    protected virtual void OnPeerClosed() => CloseWhenFlushed();

    /// <summary>
    /// Called after <see cref="IsWritable"/> changed, once the callback that changed it has returned (never
    /// inside <see cref="Send"/>). Read <see cref="IsWritable"/>: false means stop producing for this peer.
    /// </summary>
    protected virtual void OnWritabilityChanged()
    {
    }

    /// <inheritdoc/>
    protected sealed override void OnAdded()
    {
        OpenedAt = Loop.Now;
        if (_idleTicks > 0)
        {
            _lastReceived = RunningNow;
            _idleTimer = Loop.CallAt(MonotonicClock.Add(Loop.Now, _idleTicks), s_checkIdle, this);
        }

        StartRing();
        OnOpened();
    }

    /// <inheritdoc/>
    protected sealed override void OnClosing()
    {
        _state = TcpConnectionState.Closed;
        if (CloseReason == TcpCloseReason.None)
        {
            CloseReason = TcpCloseReason.Local;
        }

        _closeTimer?.Cancel();
        _idleTimer?.Cancel();
        if (!_outgoing.IsEmpty)
        {
            Owner?.AddQueued(-_outgoing.Length); // dropped with the connection
        }

        if (_ring is null)
        {
            _outgoing.Dispose();
            ReleaseBuffers();
        }
        else if (OperatingSystem.IsLinux())
        {
            CloseRing(); // what the kernel still uses is released with its last completion
        }
    }

    /// <inheritdoc/>
    protected sealed override void ReleaseHandle()
    {
        if (_socket is not null)
        {
            _socket.Dispose();
        }
        else
        {
            SocketCalls.Close(_handle);
        }
    }

    /// <summary>
    /// Stops (or resumes) reading the peer for a subclass's own reasons (its receive buffer is full), apart from
    /// the send queue's back-pressure; takes effect after the current read. Loop thread.
    /// </summary>
    private protected void SetReceivePaused(bool paused)
    {
        if (_receivePaused != paused)
        {
            _receivePaused = paused;
            if (IsAttached && !IsClosed)
            {
                WantsChanged(); // readiness: re-read the wants; io_uring: cancel or re-arm the receive
            }
        }
    }

    /// <summary>Called inside <see cref="HandleSend"/> when the queue has drained to the low watermark (no application code).</summary>
    private protected virtual void OnBecameWritable()
    {
    }

    /// <summary>Returns what a framing subclass holds (inside <see cref="LoopHandler.Close"/>; no application code).</summary>
    private protected virtual void ReleaseBuffers()
    {
    }

    /// <inheritdoc/>
    private protected sealed override void ReportClosed()
    {
        Owner?.Release(this);
        base.ReportClosed();
    }

    /// <summary>Closes the connection once its peer has sent nothing for <paramref name="timeout"/>; set before it is added.</summary>
    internal void SetIdleTimeout(TimeSpan timeout) => _idleTicks = Math.Max(1, MonotonicClock.ToTicks(timeout));

    private void Enqueue(ReadOnlySpan<byte> data)
    {
        bool wasEmpty = _outgoing.IsEmpty;
        _outgoing.Append(data);
        Owner?.AddQueued(data.Length);
        if (_writable && _outgoing.Length >= _options.HighWatermark)
        {
            _writable = false;
            Owner?.CountReadPause();
            if (_state == TcpConnectionState.Open)
            {
                _state = TcpConnectionState.ReadPaused;
            }

            ScheduleWritabilityReport();
            WantsChanged();
        }
        else if (wasEmpty)
        {
            WantsChanged(); // wants to send now
        }
    }

    private void Flush()
    {
        while (!_outgoing.IsEmpty)
        {
            ReadOnlySpan<byte> chunk = _outgoing.FirstSpan;
            int sent = SocketCalls.Send(_handle, chunk, out SocketError error);
            if (sent < 0)
            {
                if (error == SocketError.WouldBlock)
                {
                    break;
                }

                CloseOnError(error);
                return;
            }

            _outgoing.Consume(sent);
            Owner?.AddQueued(-sent);
            if (sent < chunk.Length)
            {
                break; // the socket buffer is full: skip the send that would only say EAGAIN
            }
        }

        AfterSend();
    }

    // Bytes left the queue: writable again at the low watermark (reading again if it was paused), and a
    // drained graceful close goes on.
    private void AfterSend()
    {
        if (!_writable && _outgoing.Length <= _options.LowWatermark)
        {
            _writable = true;
            if (_state == TcpConnectionState.ReadPaused)
            {
                _state = TcpConnectionState.Open;
                WantsChanged();
            }

            ScheduleWritabilityReport();
            OnBecameWritable();
        }

        if (_outgoing.IsEmpty && _state == TcpConnectionState.Draining)
        {
            FinishDrain();
        }
    }

    // Reading or sending may have changed: readiness asks the loop to re-read the wants; io_uring arms or
    // cancels the receive, and submits a send.
    private void WantsChanged()
    {
        if (_ring is null)
        {
            Loop.Update(this);
        }
        else if (OperatingSystem.IsLinux())
        {
            SyncRing();
        }
    }

    // Only Open delivers input (unless a subclass paused it); Lingering reads to discard it.
    private bool IsReading => (_state == TcpConnectionState.Open && !_receivePaused) || _state == TcpConnectionState.Lingering;

    private void Deliver(ReadOnlySpan<byte> data)
    {
        _lastReceived = RunningNow;
        OnReceived(data);
    }

    private void EndOfStream()
    {
        _state = TcpConnectionState.PeerClosed;
        OnPeerClosed();
    }

    // Draining is done: close now if the peer already ended its side, else send FIN and linger for the peer's.
    private void FinishDrain()
    {
        _closeTimer?.Cancel();
        if (!_lingerAfterDrain)
        {
            CloseWith(TcpCloseReason.Completed);
            return;
        }

        if (!SocketCalls.Shutdown(_handle, SocketShutdown.Send, out SocketError error))
        {
            CloseOnError(error);
            return;
        }

        _state = TcpConnectionState.Lingering;
        _closeTimer = Loop.CallLater(_options.LingerTimeout, s_closeDeadline, this);
        WantsChanged();
    }

    // Lingering: read and drop until the peer's FIN (or an error), then close.
    private void Discard()
    {
        Span<byte> buffer = Loop.ReceiveBuffer;
        for (int reads = 0; reads < _options.MaxReadsPerTurn; reads++)
        {
            int n = SocketCalls.Receive(_handle, buffer, out SocketError error);
            if (n < 0 && error == SocketError.WouldBlock)
            {
                return;
            }

            if (n <= 0)
            {
                CloseWith(TcpCloseReason.Completed); // the peer's FIN (or its reset: all we sent was taken)
                return;
            }
        }
    }

    private void OnCloseDeadline() => CloseWith(_state == TcpConnectionState.Draining ? TcpCloseReason.DrainTimeout : TcpCloseReason.Completed);

    private void CheckIdle()
    {
        // Idle time is the loop's running time: time the process was stopped (SIGSTOP) does not count, or every
        // connection would be idle at the resume, those whose next request is a round trip away included. And
        // the loop's clock, not a fresh reading: a turn that resumes after a stop runs on the time it started with.
        long idle = RunningNow - _lastReceived;
        if (idle >= _idleTicks)
        {
            CloseWith(TcpCloseReason.IdleTimeout);
            return;
        }

        _idleTimer = Loop.CallAt(MonotonicClock.Add(Loop.Now, _idleTicks - idle), s_checkIdle, this); // a read only stamps the clock: O(1) per read
    }

    // The loop's clock less the time the loop was stopped: what idle timeouts count.
    private long RunningNow => Loop.Now - Loop.StoppedTicks;

    private void CloseOnError(SocketError error)
    {
        if (error is SocketError.WouldBlock or SocketError.Interrupted)
        {
            return; // nothing now; the loop reports readiness again
        }

        Error = error;
        CloseWith(TcpCloseReason.SocketError);
    }

    private void CloseWith(TcpCloseReason reason)
    {
        if (CloseReason == TcpCloseReason.None)
        {
            CloseReason = reason;
        }

        Close();
    }

    private void ScheduleWritabilityReport()
    {
        if (!_writabilityReportPending && Loop.Post(s_reportWritability, this))
        {
            _writabilityReportPending = true;
        }
    }

    private void ReportWritability()
    {
        _writabilityReportPending = false;
        if (!IsClosed && _writable != _writabilityReported)
        {
            _writabilityReported = _writable;
            OnWritabilityChanged();
        }
    }
}
