using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using System.Net.Sockets;
using EventIO.Net;
using Microsoft.Extensions.Logging;

namespace EventIO.Async;

/// <summary>
/// A TCP connection driven by <c>await</c> instead of callbacks: <see cref="ReceiveAsync"/> and
/// <see cref="SendAsync"/> (or a <see cref="System.IO.Pipelines"/> pipe, <see cref="AsPipe"/>), with the
/// loop's single-threaded guarantees: every continuation runs on the loop thread, so the code that awaits
/// needs no locks, and a steady stream of receives and sends allocates nothing.
/// </summary>
/// <remarks>
/// <para><b>Getting one:</b> from an <see cref="AsyncTcpListener"/> (<c>await foreach</c>), from a
/// <see cref="TcpServer"/> whose factory is <see cref="Factory"/> (one task per connection, started on the
/// connection's loop; the connection closes gracefully when the task ends), or by wrapping a connected socket
/// and adding it to a loop.</para>
/// <para><b>Receiving:</b> bytes that arrive while a <see cref="ReceiveAsync"/> waits go straight into its
/// buffer; the rest wait in a pooled buffer of the connection (none while idle). Once
/// <see cref="ReceiveBufferLimit"/> bytes wait there, the connection stops reading its peer until the
/// application takes them: memory stays bounded whatever the peer sends. At the peer's end of stream
/// <see cref="ReceiveAsync"/> returns 0 and the connection stays open for sending (half-close).</para>
/// <para><b>Sending:</b> <see cref="SendAsync"/> writes at once as far as the socket takes it and queues the
/// rest (as <see cref="TcpConnection.Send"/>); its task completes at once unless the send crossed the high
/// watermark, then when the queue has drained to the low one: awaiting every send is the back-pressure.</para>
/// <para><b>Errors:</b> an operation on a connection closed by a socket error throws a
/// <see cref="SocketException"/> carrying that <see cref="SocketError"/>; closed on this side (<see cref="LoopHandler.Close"/>,
/// or its loop disposed), an <see cref="OperationCanceledException"/>; by an idle or drain deadline,
/// <see cref="SocketError.TimedOut"/>; by the send cap, <see cref="SocketError.NoBufferSpaceAvailable"/>.
/// Operations pending when the connection closes complete with the same exception (a receive after the
/// peer's end of stream returns 0).</para>
/// <para><b>Threading:</b> loop thread only: every member throws <see cref="InvalidOperationException"/>
/// from another thread, before changing anything. One receive and one send may be pending at a time.</para>
/// </remarks>
public sealed class AsyncTcpConnection : TcpConnection
{
    /// <summary>The default <see cref="ReceiveBufferLimit"/>: 64 KiB.</summary>
    public const int DefaultReceiveBufferLimit = 64 * 1024;

    private static readonly Action<object?> s_startTask = static s => ((AsyncTcpConnection)s!).StartTask();

    private readonly ReceiveQueue _received = new();
    private readonly Func<AsyncTcpConnection, Task>? _run;
    private readonly Action<AsyncTcpConnection>? _opened;
    private LoopValueTaskSource<int>? _receive;
    private LoopValueTaskSource<bool>? _send;
    private Memory<byte> _receiveTarget; // the buffer of the receive now waiting
    private ConnectionPipe? _pipe;
    private Task? _task;
    private bool _endOfStream;
    private bool _receivePaused;

    /// <summary>
    /// Wraps a connected socket's handle, which this connection now owns (as <see cref="TcpServer"/> hands it
    /// over: non-blocking). Add it to a loop to start.
    /// </summary>
    /// <param name="socket">The connected socket's handle.</param>
    /// <param name="options">Send queue, watermarks and deadlines; defaults when null.</param>
    /// <param name="receiveBufferLimit">Bytes that may wait for <see cref="ReceiveAsync"/> before the connection stops reading its peer (at least 1).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="receiveBufferLimit"/> is less than 1.</exception>
    [SuppressMessage("ApiDesign", "RS0026", Justification = "The two constructors differ in the socket's type, as TcpConnection's own: no call is ambiguous.")]
    public AsyncTcpConnection(SafeSocketHandle socket, TcpConnectionOptions? options = null, int receiveBufferLimit = DefaultReceiveBufferLimit)
        : base(socket, options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(receiveBufferLimit, 1);
        ReceiveBufferLimit = receiveBufferLimit;
    }

    /// <summary>Wraps a connected <paramref name="socket"/>, which this connection now owns (made non-blocking). Add it to a loop to start.</summary>
    /// <param name="socket">The connected socket.</param>
    /// <param name="options">Send queue, watermarks and deadlines; defaults when null.</param>
    /// <param name="receiveBufferLimit">Bytes that may wait for <see cref="ReceiveAsync"/> before the connection stops reading its peer (at least 1).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="receiveBufferLimit"/> is less than 1.</exception>
    [SuppressMessage("ApiDesign", "RS0026", Justification = "The two constructors differ in the socket's type, as TcpConnection's own: no call is ambiguous.")]
    public AsyncTcpConnection(Socket socket, TcpConnectionOptions? options = null, int receiveBufferLimit = DefaultReceiveBufferLimit)
        : base(socket, options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(receiveBufferLimit, 1);
        ReceiveBufferLimit = receiveBufferLimit;
    }

    private AsyncTcpConnection(SafeSocketHandle socket, TcpConnectionOptions? options, int receiveBufferLimit, Func<AsyncTcpConnection, Task>? run, Action<AsyncTcpConnection>? opened)
        : this(socket, options, receiveBufferLimit)
    {
        _run = run;
        _opened = opened;
    }

    /// <summary>Bytes that may wait for <see cref="ReceiveAsync"/> (or, with <see cref="AsPipe"/>, unconsumed in the input pipe) before the connection stops reading its peer.</summary>
    public int ReceiveBufferLimit { get; }

    /// <summary>Bytes received and not yet taken by <see cref="ReceiveAsync"/>. Loop thread.</summary>
    public int BufferedBytes => _received.Count;

    /// <summary>
    /// A factory for <see cref="TcpServer"/>: each accepted connection becomes an <see cref="AsyncTcpConnection"/>
    /// and <paramref name="run"/> is started for it on its loop, right after it opened (in a posted action, so
    /// never inside the accept). When the task ends the connection closes gracefully (what was sent is
    /// flushed); if it fails with anything but the connection's own closing exception, the failure is logged and
    /// the connection closed at once. Works with every kind of server, one loop or many.
    /// </summary>
    /// <param name="run">The connection's code: receive, send, return when done.</param>
    /// <param name="options">Send queue, watermarks and deadlines of each connection; defaults when null.</param>
    /// <param name="receiveBufferLimit">See <see cref="ReceiveBufferLimit"/>.</param>
    public static Func<SafeSocketHandle, TcpConnection> Factory(Func<AsyncTcpConnection, Task> run, TcpConnectionOptions? options = null, int receiveBufferLimit = DefaultReceiveBufferLimit)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentOutOfRangeException.ThrowIfLessThan(receiveBufferLimit, 1);
        return socket => new AsyncTcpConnection(socket, options, receiveBufferLimit, run, opened: null);
    }

    /// <summary>
    /// Receives into <paramref name="buffer"/>: at once from what is already buffered, else when the peer sends.
    /// An empty <paramref name="buffer"/> waits for data without taking any (a zero-byte read: then rent a
    /// buffer and receive again). Loop thread.
    /// </summary>
    /// <returns>The number of bytes received; 0 at the peer's end of stream (the connection may still send).</returns>
    /// <exception cref="InvalidOperationException">Not on the loop thread, another receive is pending, or the connection is read through <see cref="AsPipe"/>.</exception>
    /// <exception cref="SocketException">(In the task.) The connection failed; <see cref="SocketException.SocketErrorCode"/> says how.</exception>
    /// <exception cref="OperationCanceledException">(In the task.) <paramref name="cancellationToken"/> was cancelled (received bytes stay buffered for the next receive), or the connection was closed on this side.</exception>
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Loop.ThrowIfNotOnLoopThread();
        ThrowIfPiped();
        LoopValueTaskSource<int> receive = _receive!;
        if (receive.IsPending)
        {
            throw new InvalidOperationException("A ReceiveAsync is already pending on this connection: await it before starting the next.");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        if (_received.Count > 0)
        {
            return new ValueTask<int>(TakeReceived(buffer.Span));
        }

        if (_endOfStream || IsClosing || (IsClosed && CloseReason == TcpCloseReason.Completed))
        {
            return new ValueTask<int>(0); // nothing more will come
        }

        if (IsClosed)
        {
            return ValueTask.FromException<int>(CloseException());
        }

        _receiveTarget = buffer;
        return new ValueTask<int>(receive, receive.Begin(cancellationToken));
    }

    /// <summary>
    /// Sends <paramref name="data"/>: written at once as far as the socket takes it, the rest queued (order kept).
    /// The task completes at once, or, if this send left the connection unwritable (past the high watermark),
    /// once the queue has drained to the low watermark. <paramref name="data"/> may be reused as soon as this
    /// method returns. Loop thread.
    /// </summary>
    /// <exception cref="InvalidOperationException">Not on the loop thread, another send is pending, or the connection is written through <see cref="AsPipe"/>.</exception>
    /// <exception cref="SocketException">(In the task.) The connection failed or is closing (<see cref="SocketError.Shutdown"/>), or the send cap refused the bytes (<see cref="SocketError.NoBufferSpaceAvailable"/>).</exception>
    /// <exception cref="OperationCanceledException">(In the task.) <paramref name="cancellationToken"/> was cancelled while waiting for the queue to drain (the bytes stay queued), or the connection was closed on this side.</exception>
    public ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        Loop.ThrowIfNotOnLoopThread();
        ThrowIfPiped();
        LoopValueTaskSource<bool> send = _send!;
        if (send.IsPending)
        {
            throw new InvalidOperationException("A SendAsync is already pending on this connection: await it before starting the next.");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        if (IsClosed || IsClosing)
        {
            return ValueTask.FromException(IsClosed ? CloseException() : new SocketException((int)SocketError.Shutdown));
        }

        if (!Send(data.Span))
        {
            return ValueTask.FromException(IsClosed ? CloseException() : new SocketException((int)SocketError.NoBufferSpaceAvailable));
        }

        return IsWritable ? default : new ValueTask(send, send.Begin(cancellationToken));
    }

    /// <summary>
    /// The connection as a <see cref="System.IO.Pipelines"/> pair: read the peer's bytes from
    /// <see cref="IDuplexPipe.Input"/>, write replies to <see cref="IDuplexPipe.Output"/> and flush. The loop is the
    /// pipes' scheduler (continuations of reads and flushes run in its posted phase); bytes already received come
    /// first. Completing the output closes the connection once flushed; the peer's end of stream completes the
    /// input. The same pipe is returned on every call; <see cref="ReceiveAsync"/> and <see cref="SendAsync"/> are
    /// refused from then on. Loop thread.
    /// </summary>
    /// <exception cref="InvalidOperationException">Not on the loop thread, or a receive or send is pending.</exception>
    public IDuplexPipe AsPipe()
    {
        Loop.ThrowIfNotOnLoopThread();
        if (_pipe is not null)
        {
            return _pipe;
        }

        if (_receive!.IsPending || _send!.IsPending)
        {
            throw new InvalidOperationException("A receive or send is pending: finish it before switching the connection to a pipe.");
        }

        var pipe = new ConnectionPipe(this, ReceiveBufferLimit);
        _pipe = pipe;
        if (_received.Count > 0)
        {
            pipe.OnReceived(_received.Waiting);
            _received.Release();
        }

        if (_endOfStream)
        {
            pipe.OnEndOfStream();
        }

        if (IsClosed)
        {
            pipe.OnClosed(CloseReason == TcpCloseReason.Completed ? null : CloseException());
        }

        SetReceivingPaused(false); // the pipe has its own limit
        pipe.Start();
        return pipe;
    }

    /// <summary>Connects the connection to its task or listener once it is registered.</summary>
    protected override void OnOpened()
    {
        _receive = new LoopValueTaskSource<int>(Loop);
        _send = new LoopValueTaskSource<bool>(Loop);
        if (_run is not null)
        {
            Loop.Post(s_startTask, this);
        }

        _opened?.Invoke(this);
    }

    /// <summary>Bytes from the peer: into the waiting receive's buffer, else the connection's own (pausing at the limit), or into the pipe.</summary>
    protected override void OnReceived(ReadOnlySpan<byte> data)
    {
        if (_pipe is not null)
        {
            _pipe.OnReceived(data);
            return;
        }

        LoopValueTaskSource<int> receive = _receive!;
        if (receive.IsWaiting)
        {
            int n = Math.Min(data.Length, _receiveTarget.Length);
            data[..n].CopyTo(_receiveTarget.Span);
            _receiveTarget = default;
            _received.Append(data[n..]);
            receive.Complete(n);
        }
        else
        {
            _received.Append(data);
        }

        if (_received.Count >= ReceiveBufferLimit)
        {
            SetReceivingPaused(true);
        }
    }

    /// <summary>The peer ended its side: receives return 0 once the buffer is empty; the connection stays open for sending.</summary>
    protected override void OnPeerClosed()
    {
        _endOfStream = true;
        if (_pipe is not null)
        {
            _pipe.OnEndOfStream();
        }
        else if (_receive!.IsWaiting)
        {
            _receiveTarget = default;
            _receive.Complete(0);
        }
    }

    /// <inheritdoc/>
    private protected override void OnBecameWritable() => _send?.Complete(true);

    /// <inheritdoc/>
    private protected override void ReleaseBuffers()
    {
        _received.Release();
        _receiveTarget = default;
        Exception? error = CloseReason == TcpCloseReason.Completed ? null : CloseException();
        if (_receive is { IsWaiting: true } receive)
        {
            if (error is null)
            {
                receive.Complete(0);
            }
            else
            {
                receive.Fail(error);
            }
        }

        if (_send is { IsWaiting: true } send)
        {
            send.Fail(error ?? new SocketException((int)SocketError.Shutdown));
        }

        _pipe?.OnClosed(error);
    }

    /// <summary>A connection made by an <see cref="AsyncTcpListener"/>: <paramref name="opened"/> queues it once it is registered.</summary>
    internal static AsyncTcpConnection ForListener(SafeSocketHandle socket, TcpConnectionOptions? options, int receiveBufferLimit, Action<AsyncTcpConnection> opened)
        => new(socket, options, receiveBufferLimit, run: null, opened);

    /// <summary>Stops or resumes reading the peer (a full receive buffer or input pipe). Loop thread.</summary>
    internal void SetReceivingPaused(bool paused)
    {
        _receivePaused = paused;
        SetReceivePaused(paused);
    }

    /// <summary>Completes when the connection is writable again (the output pump's back-pressure); throws if it closes first.</summary>
    internal ValueTask WaitUntilWritableAsync()
    {
        if (IsWritable || IsClosed)
        {
            return IsClosed ? ValueTask.FromException(CloseException()) : default;
        }

        LoopValueTaskSource<bool> send = _send!;
        return new ValueTask(send, send.Begin(CancellationToken.None));
    }

    /// <summary>The exception an operation on this closed connection completes with (see the remarks).</summary>
    internal Exception CloseException() => CloseReason switch
    {
        TcpCloseReason.SocketError => new SocketException((int)Error),
        TcpCloseReason.IdleTimeout or TcpCloseReason.DrainTimeout => new SocketException((int)SocketError.TimedOut),
        TcpCloseReason.SendQueueFull => new SocketException((int)SocketError.NoBufferSpaceAvailable),
        TcpCloseReason.Completed => new SocketException((int)SocketError.Shutdown),
        _ => new OperationCanceledException("The connection was closed on this side (Close, or its loop was disposed)."),
    };

    private int TakeReceived(Span<byte> destination)
    {
        int n = _received.Take(destination);
        if (_receivePaused && _received.Count < ReceiveBufferLimit)
        {
            SetReceivingPaused(false);
        }

        return n;
    }

    private void ThrowIfPiped()
    {
        if (_pipe is not null)
        {
            throw new InvalidOperationException("This connection is read and written through its pipe (AsPipe).");
        }
    }

    // The connection's task, started in a posted action after the connection opened.
    private void StartTask()
    {
        Task task;
        try
        {
            task = _run!(this) ?? Task.CompletedTask;
        }
        catch (Exception ex)
        {
            task = Task.FromException(ex);
        }

        _task = task;
        if (task.IsCompleted)
        {
            OnTaskCompleted();
        }
        else
        {
            task.GetAwaiter().UnsafeOnCompleted(OnTaskCompleted); // resumes on the loop (its context is current here)
        }
    }

    private void OnTaskCompleted()
    {
        Task task = _task!;
        if (task.Exception?.InnerException is { } failure)
        {
            if (IsClosed && failure is SocketException or OperationCanceledException)
            {
                if (Loop.Logger.IsEnabled(LogLevel.Debug))
                {
                    string who = Describe(), reason = CloseReason.ToString();
                    AsyncLog.ConnectionTaskEndedByClose(Loop.Logger, who, reason); // the close it reported
                }
            }
            else
            {
                AsyncLog.ConnectionTaskFailed(Loop.Logger, Describe(), failure);
                Close();
                return;
            }
        }

        if (_pipe is not null)
        {
            _pipe.OnTaskCompleted(); // flushes what the task wrote, then closes
        }
        else
        {
            CloseWhenFlushed();
        }
    }

    private string Describe() => IsClosed ? "(closed)" : RemoteEndPoint?.ToString() ?? "(unknown)";
}
