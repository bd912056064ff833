using System.Net;
using EventIO.Net;

namespace EventIO.Async;

/// <summary>
/// A listening TCP socket for code that awaits: <c>await foreach (var connection in listener)</c>, or
/// <see cref="AcceptAsync"/>. Accepted connections are <see cref="AsyncTcpConnection"/>s on the listener's
/// loop. Built on a <see cref="TcpServer"/> (<see cref="Server"/>), so it keeps its limits, counts and its
/// handling of running out of descriptors.
/// </summary>
/// <remarks>
/// <para><b>Bounded:</b> at most <see cref="AcceptQueueCapacity"/> accepted connections wait for the
/// application; while the queue is full the server stops accepting and clients wait in the kernel's backlog.</para>
/// <para><b>Ending:</b> when the listener stops (<see cref="Dispose"/>, the server's <c>StopListening</c>,
/// <c>Shutdown</c> or close), a pending accept and every later one throw <see cref="OperationCanceledException"/>
/// and the <c>await foreach</c> ends; connections still queued are closed. When the loop is disposed, a pending
/// accept is cancelled too. Connections already handed out live on: close each when done
/// (<see cref="TcpConnection.CloseWhenFlushed()"/>, or <see cref="LoopHandler.Close"/>).</para>
/// <para><b>Threading:</b> loop thread only (create it there, or before the loop runs on the thread that made
/// the loop); the server's connections stay on this loop, so <see cref="TcpServerOptions.ChildLoops"/> is refused.</para>
/// </remarks>
public sealed class AsyncTcpListener : IAsyncEnumerable<AsyncTcpConnection>, IDisposable
{
    /// <summary>The default <see cref="AcceptQueueCapacity"/>: 128.</summary>
    public const int DefaultAcceptQueueCapacity = 128;

    private readonly EventLoop _loop;
    private readonly Queue<AsyncTcpConnection> _accepted = new();
    private readonly LoopValueTaskSource<AsyncTcpConnection> _accept;
    private readonly PendingAccept _pending;

    /// <summary>Binds and listens on <paramref name="endPoint"/> and starts accepting on <paramref name="loop"/>.</summary>
    /// <param name="loop">The loop the server and its connections live on.</param>
    /// <param name="endPoint">Where to listen (port 0 picks a free port; see <see cref="LocalEndPoint"/>).</param>
    /// <param name="serverOptions">Backlog, limits, idle timeout; defaults when null. <see cref="TcpServerOptions.ChildLoops"/> must be null.</param>
    /// <param name="connectionOptions">Send queue, watermarks and deadlines of each connection; defaults when null.</param>
    /// <param name="acceptQueueCapacity">Accepted connections that may wait for the application (at least 1).</param>
    /// <exception cref="System.Net.Sockets.SocketException">The address cannot be bound.</exception>
    /// <exception cref="ArgumentException"><paramref name="serverOptions"/> has child loops.</exception>
    /// <exception cref="InvalidOperationException">Not on the loop thread.</exception>
    public AsyncTcpListener(EventLoop loop, IPEndPoint endPoint, TcpServerOptions? serverOptions = null, TcpConnectionOptions? connectionOptions = null, int acceptQueueCapacity = DefaultAcceptQueueCapacity)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentOutOfRangeException.ThrowIfLessThan(acceptQueueCapacity, 1);
        if (serverOptions?.ChildLoops is not null)
        {
            throw new ArgumentException("An AsyncTcpListener keeps its connections on its own loop: ChildLoops must be null (run one listener per loop, with ReusePort).", nameof(serverOptions));
        }

        loop.ThrowIfNotOnLoopThread();
        _loop = loop;
        AcceptQueueCapacity = acceptQueueCapacity;
        _accept = new LoopValueTaskSource<AsyncTcpConnection>(loop);
        _pending = new PendingAccept(this);
        Server = new TcpServer(endPoint, socket => AsyncTcpConnection.ForListener(socket, connectionOptions, AsyncTcpConnection.DefaultReceiveBufferLimit, Enqueue), serverOptions)
        {
            HoldsAccepts = true, // io_uring too: accept through readiness, so a full queue holds at once
        };
        Server.ListeningStopped = OnListeningStopped;
        try
        {
            loop.Add(Server);
        }
        catch
        {
            Server.Dispose();
            throw;
        }
    }

    /// <summary>The server underneath: its counts, <c>Shutdown</c>, <c>StopListening</c>.</summary>
    public TcpServer Server { get; }

    /// <summary>The address really bound.</summary>
    public IPEndPoint LocalEndPoint => Server.LocalEndPoint;

    /// <summary>Accepted connections that may wait for <see cref="AcceptAsync"/> before the server stops accepting.</summary>
    public int AcceptQueueCapacity { get; }

    /// <summary>Accepted connections waiting for <see cref="AcceptAsync"/>. Loop thread.</summary>
    public int QueuedCount => _accepted.Count;

    /// <summary>
    /// The next accepted connection: at once if one is queued, else when a client connects. Loop thread;
    /// one accept at a time. No allocation per accept.
    /// </summary>
    /// <exception cref="InvalidOperationException">Not on the loop thread, or another accept is pending.</exception>
    /// <exception cref="OperationCanceledException">(In the task.) <paramref name="cancellationToken"/> was cancelled, the listener stopped, or the loop was disposed.</exception>
    public ValueTask<AsyncTcpConnection> AcceptAsync(CancellationToken cancellationToken = default)
    {
        _loop.ThrowIfNotOnLoopThread();
        if (_accept.IsPending)
        {
            throw new InvalidOperationException("An AcceptAsync is already pending on this listener: await it before starting the next.");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<AsyncTcpConnection>(cancellationToken);
        }

        if (_accepted.TryDequeue(out AsyncTcpConnection? connection))
        {
            Server.AcceptHeld = false;
            return new ValueTask<AsyncTcpConnection>(connection);
        }

        if (!Server.IsListening || _loop.IsDisposing)
        {
            return ValueTask.FromException<AsyncTcpConnection>(Stopped());
        }

        short token = _accept.Begin(cancellationToken);
        _loop.Track(_pending);
        return new ValueTask<AsyncTcpConnection>(_accept, token);
    }

    /// <summary>
    /// Accepted connections, as they come, until the listener stops (the enumeration then ends) or
    /// <paramref name="cancellationToken"/> is cancelled (it then throws <see cref="OperationCanceledException"/>). Loop thread.
    /// </summary>
    public async IAsyncEnumerator<AsyncTcpConnection> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        while (await AcceptOrNullAsync(cancellationToken) is { } connection)
        {
            yield return connection;
        }
    }

    /// <summary>Stops listening; connections still queued are closed, a pending accept is cancelled. Loop thread; idempotent.</summary>
    public void Dispose() => Server.StopListening();

    // A connection opened on the loop (inside the server's accept): hand it to the waiting accept, or queue it.
    private void Enqueue(AsyncTcpConnection connection)
    {
        if (_accept.IsWaiting)
        {
            _loop.Untrack(_pending);
            _accept.Complete(connection);
            return;
        }

        _accepted.Enqueue(connection);
        if (_accepted.Count >= AcceptQueueCapacity)
        {
            Server.AcceptHeld = true; // clients wait in the kernel's backlog until the application catches up
        }
    }

    private void OnListeningStopped()
    {
        while (_accepted.TryDequeue(out AsyncTcpConnection? connection))
        {
            connection.Close();
        }

        CancelPending();
    }

    private void CancelPending()
    {
        if (_accept.IsWaiting)
        {
            _loop.Untrack(_pending);
            _accept.Fail(Stopped());
        }
    }

    private async ValueTask<AsyncTcpConnection?> AcceptOrNullAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await AcceptAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null; // the listener stopped or the loop is going away: the enumeration ends
        }
    }

    private static OperationCanceledException Stopped() => new("The listener has stopped (disposed, shut down, or its loop disposed).");

    // What the loop cancels if it is disposed while an accept waits.
    private sealed class PendingAccept(AsyncTcpListener listener) : ILoopOperation
    {
        public EventLoop Loop => listener._loop;

        public void CancelForDisposal() => listener.CancelPending();
    }
}
