using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace EventIO.Net;

/// <summary>
/// A listening TCP socket: the recipe's <c>TCPServer</c>. Accepts in bounded batches, makes one
/// connection handler per client with a factory and adds it to the loop.
/// </summary>
/// <remarks>
/// <para><b>Descriptor exhaustion:</b> when accept fails with EMFILE/ENFILE the server neither spins nor
/// dies: it frees a descriptor kept in reserve, accepts and closes the clients waiting in the backlog (so
/// they are told at once instead of hanging), takes the reserve back, stops watching the listener for
/// <see cref="TcpServerOptions.AcceptRetryDelay"/>, logs once per episode, and resumes.</para>
/// <para><b>Threading:</b> construct anywhere; everything else on the loop thread.</para>
/// </remarks>
public sealed class TcpServer : IEventHandler, IDisposable
{
    private static readonly Action<object?> s_resumeAccepting = static s => ((TcpServer)s!).ResumeAccepting();

    private readonly EventLoop _loop;
    private readonly Socket _listener;
    private readonly Func<EventLoop, Socket, TcpConnection> _createConnection;
    private readonly TcpServerOptions _options;
    private readonly HashSet<TcpConnection> _connections = new(ReferenceEqualityComparer.Instance);
    private readonly string _name;
    private bool _acceptPaused;
    private bool _exhausted;          // inside an out-of-descriptors episode (logged once)
    private Microsoft.Win32.SafeHandles.SafeFileHandle? _spare;       // one descriptor held in reserve to accept-and-close when out of them
    private bool _listening = true;
    private Action? _onDrained;

    /// <summary>
    /// Binds and listens on <paramref name="endPoint"/> (port 0 picks a free port; see
    /// <see cref="LocalEndPoint"/>). Add the server to <paramref name="loop"/> to start accepting.
    /// </summary>
    /// <param name="loop">The loop that accepted connections are added to.</param>
    /// <param name="endPoint">Where to listen.</param>
    /// <param name="createConnection">Makes the handler for one accepted socket; called on the loop thread.</param>
    /// <param name="options">Backlog, batch size and limits; defaults when null.</param>
    /// <exception cref="SocketException">The address cannot be bound (for example, it is in use).</exception>
    public TcpServer(EventLoop loop, IPEndPoint endPoint, Func<EventLoop, Socket, TcpConnection> createConnection, TcpServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentNullException.ThrowIfNull(createConnection);
        _options = options ?? new TcpServerOptions();
        _options.Validate();
        _loop = loop;
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

        _spare = OpenSpare();
        LocalEndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _name = LocalEndPoint.ToString();
    }

    /// <summary>The address really bound (with the port the OS picked when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Connections accepted and not yet closed. Loop thread (or after the loop has stopped).</summary>
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

    /// <summary>Times accepting was paused because the process ran out of descriptors. Loop thread (or after the loop has stopped).</summary>
    public long AcceptPauseCount { get; private set; }

    /// <summary>True while the listener is open.</summary>
    public bool IsListening => _listening;

    /// <inheritdoc/>
    public SafeHandle Handle => _listener.SafeHandle;

    /// <inheritdoc/>
    public bool WantsToReceive => _listening && !_acceptPaused;

    /// <inheritdoc/>
    public bool WantsToSend => false;

    /// <summary>Accepts up to <see cref="TcpServerOptions.AcceptBatch"/> pending connections.</summary>
    public void HandleReceive()
    {
        for (int i = 0; i < _options.AcceptBatch && _listening; i++)
        {
            Socket client;
            try
            {
                client = _listener.Accept();
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.WouldBlock)
            {
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.TooManyOpenSockets || ex.SocketErrorCode == SocketError.NoBufferSpaceAvailable)
            {
                PauseAccepting(ex.SocketErrorCode);
                return;
            }
            catch (SocketException ex)
            {
                // ECONNABORTED and friends: that client is gone; the next one may be fine.
                NetLog.AcceptFailed(_loop.Logger, _name, ex.SocketErrorCode);
                continue;
            }

            if (_exhausted)
            {
                _exhausted = false;
                NetLog.AcceptResumed(_loop.Logger, _name);
            }

            if (_options.MaxConnections > 0 && _connections.Count >= _options.MaxConnections)
            {
                RejectedCount++;
                client.Dispose(); // accepted and closed at once: the client learns now, not after a backlog timeout
                continue;
            }

            AcceptedCount++;
            SetUp(client);
        }
    }

    /// <inheritdoc/>
    public void HandleSend()
    {
    }

    /// <summary>Closes the listener; connections already accepted carry on. Idempotent.</summary>
    public void StopListening()
    {
        if (!_listening)
        {
            return;
        }

        _listening = false;
        _loop.Remove(this);
        _listener.Dispose();
        _spare?.Dispose();
        _spare = null;
    }

    /// <summary>
    /// Graceful shutdown: stops listening, stops reading every connection, lets each flush what it has
    /// queued and close. <paramref name="onDrained"/> runs on the loop thread once none is left (at once
    /// if there are none).
    /// </summary>
    public void Shutdown(Action? onDrained = null)
    {
        StopListening();
        _onDrained = onDrained;
        foreach (TcpConnection connection in _connections.ToArray())
        {
            connection.CloseWhenFlushed();
        }

        NotifyIfDrained();
    }

    /// <summary>Closes the listener and every connection at once. Idempotent.</summary>
    public void Dispose()
    {
        StopListening();
        foreach (TcpConnection connection in _connections.ToArray())
        {
            connection.Close();
        }
    }

    internal void Release(TcpConnection connection)
    {
        _connections.Remove(connection);
        if (connection.ClosedForIdleness)
        {
            IdleClosedCount++;
        }

        NotifyIfDrained();
    }

    private void SetUp(Socket client)
    {
        TcpConnection? connection = null;
        try
        {
            client.Blocking = false;
            if (_options.NoDelay)
            {
                client.NoDelay = true;
            }

            connection = _createConnection(_loop, client) ?? throw new InvalidOperationException("The connection factory returned null.");
            connection.Owner = this;
            _connections.Add(connection);
            _loop.Add(connection);
            if (_options.IdleTimeout != Timeout.InfiniteTimeSpan)
            {
                connection.SetIdleTimeout(_options.IdleTimeout);
            }
        }
        catch (Exception ex)
        {
            NetLog.ConnectionSetupFailed(_loop.Logger, _name, ex);
            if (connection is not null)
            {
                connection.Close();
            }
            else
            {
                client.Dispose();
            }
        }
    }

    private void PauseAccepting(SocketError error)
    {
        ShedBacklog();
        _acceptPaused = true;
        AcceptPauseCount++;
        if (!_exhausted)
        {
            _exhausted = true;
            NetLog.AcceptPaused(_loop.Logger, _name, error, _options.AcceptRetryDelay.TotalMilliseconds);
        }

        _loop.CallLater(_options.AcceptRetryDelay, s_resumeAccepting, this);
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
            try
            {
                _listener.Accept().Dispose();
                RejectedCount++;
            }
            catch (SocketException)
            {
                break; // EAGAIN: the backlog is empty (or another failure: the pause handles it)
            }
        }

        _spare = OpenSpare();
    }

    private static Microsoft.Win32.SafeHandles.SafeFileHandle? OpenSpare()
    {
        try
        {
            return File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Read);
        }
        catch (IOException)
        {
            return null; // out of descriptors right now; the next pause tries again
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private void ResumeAccepting()
    {
        _spare ??= OpenSpare();
        _acceptPaused = false;
        if (_listening)
        {
            _loop.Update(this);
        }
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
