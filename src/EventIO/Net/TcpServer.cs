using System.Collections.ObjectModel;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using EventIO.Interop;
using EventIO.Timers;

namespace EventIO.Net;

/// <summary>
/// A listening TCP socket: the recipe's <c>TCPServer</c>. Accepts in bounded batches, makes one
/// connection handler per client with a factory and adds it to its own loop.
/// </summary>
/// <remarks>
/// <para><b>Descriptor exhaustion:</b> when accept fails with EMFILE/ENFILE the server neither spins nor
/// dies: it frees a descriptor kept in reserve, accepts and closes the clients waiting in the backlog (so
/// they are told at once instead of hanging), takes the reserve back, stops watching the listener for
/// <see cref="TcpServerOptions.AcceptRetryDelay"/>, logs once per episode, and resumes.</para>
/// <para><b>Connections:</b> <see cref="Connections"/> may be iterated in any callback: a connection leaves
/// it only after the callback that closed it has returned, so a broadcast loop is never invalidated by a
/// member whose send failed (that send just returns false).</para>
/// <para><b>Threading:</b> construct anywhere; add it to a loop; everything else on that loop's thread.</para>
/// </remarks>
public sealed class TcpServer : LoopHandler
{
    private static readonly Action<object?> s_resumeAccepting = static s => ((TcpServer)s!).ResumeAccepting();
    private static readonly Action<object?> s_notifyIfDrained = static s => ((TcpServer)s!).NotifyIfDrained();

    private readonly Socket _listener;
    private readonly SafeHandle _handle;
    private readonly Func<SafeSocketHandle, TcpConnection> _createConnection;
    private readonly TcpServerOptions _options;
    private readonly HashSet<TcpConnection> _connections = new(ReferenceEqualityComparer.Instance);
    private readonly string _name;
    private bool _listening = true;
    private bool _acceptPaused;
    private bool _exhausted;                 // inside an out-of-descriptors episode (logged once)
    private FileDescriptorHandle? _spare;    // held in reserve, to accept-and-close when out of descriptors
    private TimerHandle? _resumeTimer;
    private Action? _onDrained;

    /// <summary>
    /// Binds and listens on <paramref name="endPoint"/> (port 0 picks a free port; see <see cref="LocalEndPoint"/>).
    /// Add the server to a loop to start accepting; accepted connections join the same loop.
    /// </summary>
    /// <param name="endPoint">Where to listen.</param>
    /// <param name="createConnection">Makes the handler for one accepted connection's handle (non-blocking, yours to own); called on the loop thread.</param>
    /// <param name="options">Backlog, batch size and limits; defaults when null.</param>
    /// <exception cref="SocketException">The address cannot be bound (for example, it is in use).</exception>
    public TcpServer(IPEndPoint endPoint, Func<SafeSocketHandle, TcpConnection> createConnection, TcpServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentNullException.ThrowIfNull(createConnection);
        _options = options ?? new TcpServerOptions();
        _options.Validate();
        _createConnection = createConnection;
        _listener = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            SocketOptions.EnableReuseAddress(_listener);
            if (_options.ReusePort)
            {
                SocketOptions.EnableReusePort(_listener);
            }

            _listener.Bind(endPoint);
            _listener.Listen(_options.Backlog);
            _listener.Blocking = false;
        }
        catch
        {
            _listener.Dispose();
            throw;
        }

        _handle = _listener.SafeHandle;
        _spare = FileDescriptorHandle.TryOpenDevNull();
        LocalEndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _name = LocalEndPoint.ToString();
        Connections = new ReadOnlySet<TcpConnection>(_connections);
    }

    /// <summary>The address really bound (with the port the OS picked when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The connections accepted and not yet reported closed. Loop thread.</summary>
    public IReadOnlySet<TcpConnection> Connections { get; }

    /// <summary>The number of <see cref="Connections"/>. Loop thread (or after the loop has stopped).</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>Connections accepted since the server started. Loop thread (or after the loop has stopped).</summary>
    public long AcceptedCount { get; private set; }

    /// <summary>
    /// Clients accepted and closed at once: because <see cref="TcpServerOptions.MaxConnections"/> were open, or
    /// because the process was out of descriptors (one is kept in reserve for exactly that). Loop thread (or
    /// after the loop has stopped).
    /// </summary>
    public long RejectedCount { get; private set; }

    /// <summary>Connections closed because their peer sent nothing for <see cref="TcpServerOptions.IdleTimeout"/>. Loop thread (or after the loop has stopped).</summary>
    public long IdleClosedCount { get; private set; }

    /// <summary>Connections closed because a send would have queued more than their cap (<see cref="TcpCloseReason.SendQueueFull"/>). Loop thread (or after the loop has stopped).</summary>
    public long SendQueueFullCount { get; private set; }

    /// <summary>Times accepting was paused because the process ran out of descriptors. Loop thread (or after the loop has stopped).</summary>
    public long AcceptPauseCount { get; private set; }

    /// <summary>True while the listener is open.</summary>
    public bool IsListening => _listening;

    /// <inheritdoc/>
    public override SafeHandle Handle => _handle;

    /// <inheritdoc/>
    public override bool WantsToReceive => _listening && !_acceptPaused;

    /// <inheritdoc/>
    public override bool WantsToSend => false;

    /// <summary>Accepts up to <see cref="TcpServerOptions.AcceptBatch"/> pending connections.</summary>
    public override void HandleReceive()
    {
        for (int i = 0; i < _options.AcceptBatch && _listening; i++)
        {
            SafeSocketHandle? client = SocketCalls.Accept(_handle, out SocketError error);
            if (client is null)
            {
                if (error is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable)
                {
                    PauseAccepting(error);
                }
                else if (error != SocketError.WouldBlock)
                {
                    NetLog.AcceptFailed(Loop.Logger, _name, error); // ECONNABORTED and friends: that client is gone
                    continue;
                }

                return;
            }

            if (_exhausted)
            {
                _exhausted = false;
                NetLog.AcceptResumed(Loop.Logger, _name);
            }

            if (_options.MaxConnections > 0 && _connections.Count >= _options.MaxConnections)
            {
                RejectedCount++;
                SocketCalls.Close(client); // accepted and closed at once: the client learns now, not after a backlog timeout
                continue;
            }

            AcceptedCount++;
            SetUp(client);
        }
    }

    /// <inheritdoc/>
    public override void HandleSend()
    {
    }

    /// <summary>Closes the listener; connections already accepted carry on. Idempotent. Loop thread.</summary>
    public void StopListening()
    {
        if (!_listening)
        {
            return;
        }

        if (IsAttached)
        {
            Loop.ThrowIfNotOnLoopThread();
            Loop.Remove(this);
        }

        _listening = false;
        _resumeTimer?.Cancel();
        _resumeTimer = null;
        _listener.Dispose();
        _spare?.Dispose();
        _spare = null;
    }

    /// <summary>
    /// Graceful shutdown: stops listening and closes every connection with
    /// <see cref="TcpConnection.CloseWhenFlushed()"/> (flush within its drain deadline, then close).
    /// <paramref name="onDrained"/> runs on the loop thread once none is left, after this call returns;
    /// callbacks of repeated calls all run. Loop thread.
    /// </summary>
    public void Shutdown(Action? onDrained = null) => Shutdown(null, onDrained);

    /// <summary>
    /// As <see cref="Shutdown(Action?)"/>, with <paramref name="drainTimeout"/> as every connection's flush
    /// deadline: a peer that never reads cannot hold the shutdown longer than that.
    /// </summary>
    public void Shutdown(TimeSpan? drainTimeout, Action? onDrained = null)
    {
        StopListening();
        _onDrained += onDrained;
        foreach (TcpConnection connection in _connections.ToArray())
        {
            if (drainTimeout is { } timeout)
            {
                connection.CloseWhenFlushed(timeout);
            }
            else
            {
                connection.CloseWhenFlushed();
            }
        }

        if (_connections.Count == 0 && _onDrained is not null && IsAttached)
        {
            Loop.Post(s_notifyIfDrained, this);
        }
    }

    /// <inheritdoc/>
    protected override void OnClosing()
    {
        StopListening();
        foreach (TcpConnection connection in _connections.ToArray())
        {
            connection.Close();
        }
    }

    /// <inheritdoc/>
    protected override void ReleaseHandle() => _listener.Dispose();

    /// <summary>Called when one of its connections has closed and the closing callback returned.</summary>
    internal void Release(TcpConnection connection)
    {
        _connections.Remove(connection);
        if (connection.CloseReason == TcpCloseReason.IdleTimeout)
        {
            IdleClosedCount++;
        }
        else if (connection.CloseReason == TcpCloseReason.SendQueueFull)
        {
            SendQueueFullCount++;
        }

        NotifyIfDrained();
    }

    private void SetUp(SafeSocketHandle client)
    {
        TcpConnection? connection = null;
        try
        {
            if (_options.NoDelay)
            {
                SocketCalls.SetNoDelay(client, true, out _); // only fails for a peer already gone, which the first read reports
            }

            connection = _createConnection(client) ?? throw new InvalidOperationException("The connection factory returned null.");
            connection.Owner = this;
            if (_options.IdleTimeout != Timeout.InfiniteTimeSpan)
            {
                connection.SetIdleTimeout(_options.IdleTimeout);
            }

            _connections.Add(connection);
            Loop.Add(connection); // OnOpened runs here; a throw there closes the connection (the loop logs it)
        }
        catch (Exception ex)
        {
            NetLog.ConnectionSetupFailed(Loop.Logger, _name, ex);
            if (connection is not null)
            {
                connection.Close();
            }
            else
            {
                SocketCalls.Close(client);
            }
        }
    }

    /// <summary>True while a descriptor is held in reserve for the out-of-descriptors path (for tests).</summary>
    internal bool HoldsSpareDescriptor => _spare is not null;

    /// <summary>What accept does on EMFILE/ENFILE: shed the backlog, stop watching the listener, retry later.</summary>
    internal void PauseAccepting(SocketError error)
    {
        ShedBacklog();
        _acceptPaused = true;
        AcceptPauseCount++;
        if (!_exhausted)
        {
            _exhausted = true;
            NetLog.AcceptPaused(Loop.Logger, _name, error, _options.AcceptRetryDelay.TotalMilliseconds);
        }

        _resumeTimer = Loop.CallLater(_options.AcceptRetryDelay, s_resumeAccepting, this);
    }

    // Out of descriptors: free the spare, accept-and-close everyone waiting in the backlog so they learn
    // at once instead of hanging, then take the spare back (libuv's uv__emfile_trick, Twisted's reserve).
    private void ShedBacklog()
    {
        if (_spare is null)
        {
            return;
        }

        _spare.Dispose();
        _spare = null;
        for (int i = 0; i < _options.AcceptBatch; i++)
        {
            SafeSocketHandle? waiting = SocketCalls.Accept(_handle, out _);
            if (waiting is null)
            {
                break; // EAGAIN: the backlog is empty (or another failure: the pause handles it)
            }

            SocketCalls.Close(waiting);
            RejectedCount++;
        }

        _spare = FileDescriptorHandle.TryOpenDevNull();
    }

    private void ResumeAccepting()
    {
        _resumeTimer = null;
        if (!_listening)
        {
            return; // stopped meanwhile: nothing to resume, no spare to reopen
        }

        _spare ??= FileDescriptorHandle.TryOpenDevNull();
        _acceptPaused = false;
        Loop.Update(this);
    }

    private void NotifyIfDrained()
    {
        if (_onDrained is { } onDrained && _connections.Count == 0)
        {
            _onDrained = null;
            onDrained();
        }
    }
}
