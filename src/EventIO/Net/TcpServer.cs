using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using EventIO.Timers;

namespace EventIO.Net;

/// <summary>
/// A listening TCP socket: the recipe's <c>TCPServer</c>. Accepts in bounded batches, makes one
/// connection handler per client with a factory and adds it to its own loop (or, with
/// <see cref="TcpServerOptions.ChildLoops"/>, to the loops of a group in turn).
/// </summary>
/// <remarks>
/// <para><b>Descriptor exhaustion:</b> when accept fails with EMFILE/ENFILE the server neither spins nor
/// dies: it frees a descriptor kept in reserve, accepts and closes the clients waiting in the backlog (so
/// they are told at once instead of hanging), takes the reserve back, stops watching the listener for
/// <see cref="TcpServerOptions.AcceptRetryDelay"/>, logs once per episode, and resumes.</para>
/// <para><b>Connections:</b> <see cref="Connections"/> may be iterated in any callback: a connection leaves
/// it only after the callback that closed it has returned, so a broadcast loop is never invalidated by a
/// member whose send failed (that send just returns false).</para>
/// <para><b>One server per loop</b> (<see cref="TcpServerOptions.ReusePort"/>): the kernel spreads new
/// connections over the listeners by a hash of their addresses, and a connection waits in the backlog of
/// the listener it was given, however busy that loop is and however idle the others (no stealing); the
/// ones waiting in a backlog when its listener closes are reset. <b>One acceptor for many loops</b>
/// (<see cref="TcpServerOptions.ChildLoops"/>): this server accepts and hands each connection to the next
/// loop in turn; its counts cover them all, and <see cref="Connections"/> lists those of the loop you call
/// it from.</para>
/// <para><b>Threading:</b> construct anywhere; add it to a loop; everything else on that loop's thread.</para>
/// </remarks>
public sealed partial class TcpServer : LoopHandler
{
    private static readonly Action<object?> s_resumeAccepting = static s => ((TcpServer)s!).ResumeAccepting();
    private static readonly Action<object?> s_notifyIfDrained = static s => ((TcpServer)s!).NotifyIfDrained();
    private static readonly IReadOnlySet<TcpConnection> s_none = new HashSet<TcpConnection>();

    private readonly Socket _listener;
    private readonly SafeHandle _handle;
    private readonly Func<SafeSocketHandle, TcpConnection> _createConnection;
    private readonly TcpServerOptions _options;
    private readonly ConnectionLimit? _limit;
    private readonly AddressConnectionLimit? _addressLimit;
    private readonly DescriptorReserve _reserve;
    private readonly string _name;
    private ConnectionShard[] _shards = [];  // [0]: this server's loop; then each other child loop
    private ConnectionShard[] _targets = []; // where accepted connections go, in turn
    private int _nextTarget;
    private int _open;                       // connections accepted and not yet released, over every shard
    private long _idleClosed;
    private long _sendQueueFull;
    private long _queuedBytes;               // over every connection; changed only off the fast path (a send that did not finish)
    private long _readPauses;
    private bool _listening = true;
    private bool _acceptPaused;
    private bool _acceptHeld;                // an accept queue (AsyncTcpListener) is full
    private bool _exhausted;                 // inside an out-of-descriptors episode (logged once)
    private readonly long _descriptorCeiling; // accepted descriptors from here on are turned away (DescriptorHeadroom)
    private TimerHandle? _resumeTimer;
    private Action? _onDrained;
    private volatile bool _draining;

    /// <summary>
    /// Binds and listens on <paramref name="endPoint"/> (port 0 picks a free port; see <see cref="LocalEndPoint"/>).
    /// Add the server to a loop to start accepting; accepted connections join the same loop.
    /// </summary>
    /// <param name="endPoint">Where to listen.</param>
    /// <param name="createConnection">Makes the handler for one accepted connection's handle (non-blocking, yours to own); called on the loop thread the connection will live on.</param>
    /// <param name="options">Backlog, batch size and limits; defaults when null.</param>
    /// <exception cref="SocketException">The address cannot be bound (for example, it is in use).</exception>
    public TcpServer(IPEndPoint endPoint, Func<SafeSocketHandle, TcpConnection> createConnection, TcpServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentNullException.ThrowIfNull(createConnection);
        _options = options ?? new TcpServerOptions();
        _options.Validate();
        _createConnection = createConnection;
        _limit = _options.ConnectionLimit ?? (_options.MaxConnections > 0 ? new ConnectionLimit(_options.MaxConnections) : null);
        _addressLimit = _options.AddressLimit ?? (_options.MaxConnectionsPerAddress > 0 ? new AddressConnectionLimit(_options.MaxConnectionsPerAddress) : null);
        _listener = Listen(endPoint, _options);
        _handle = _listener.SafeHandle;
        _reserve = _options.Reserve;
        _reserve.Join();
        _descriptorCeiling = _options.DescriptorHeadroom > 0 && DescriptorLimit.Read() is { } limit && limit.Soft > 2L * _options.DescriptorHeadroom
            ? limit.Soft - _options.DescriptorHeadroom
            : long.MaxValue; // no limit to read, or too low to keep that much free (a test's ulimit -n 64): EMFILE alone
        LocalEndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _name = LocalEndPoint.ToString();
    }

    /// <summary>The address really bound (with the port the OS picked when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>
    /// The connections accepted and not yet reported closed that live on the calling loop (with a single
    /// loop: all of them). Loop thread.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called on a thread that is not running a loop, other than the server's loop thread.</exception>
    public IReadOnlySet<TcpConnection> Connections
    {
        get
        {
            EventLoop? current = EventLoop.Current;
            if (current is null && IsAttached)
            {
                Loop.ThrowIfNotOnLoopThread(); // a live set: enumerating it from another thread would race
            }

            return ShardOf(current)?.View ?? s_none;
        }
    }

    /// <summary>Connections accepted and not yet reported closed, on every loop. Any thread.</summary>
    public int ConnectionCount => Volatile.Read(ref _open);

    /// <summary>Connections accepted since the server started. Loop thread (or after the loop has stopped).</summary>
    public long AcceptedCount { get; private set; }

    /// <summary>
    /// Clients accepted and closed at once: because the connection cap was reached, or because the process
    /// was out of descriptors (one is kept in reserve for exactly that). Loop thread (or after the loop has stopped).
    /// </summary>
    public long RejectedCount { get; private set; }

    /// <summary>Connections closed because their peer sent nothing for <see cref="TcpServerOptions.IdleTimeout"/>. Any thread.</summary>
    public long IdleClosedCount => Interlocked.Read(ref _idleClosed);

    /// <summary>Connections closed because a send would have queued more than their cap (<see cref="TcpCloseReason.SendQueueFull"/>). Any thread.</summary>
    public long SendQueueFullCount => Interlocked.Read(ref _sendQueueFull);

    /// <summary>Times accepting was paused because the process ran out of descriptors. Loop thread (or after the loop has stopped).</summary>
    public long AcceptPauseCount { get; private set; }

    /// <summary>True while the listener is open.</summary>
    public bool IsListening => _listening;

    /// <inheritdoc/>
    public override SafeHandle Handle => _handle;

    /// <inheritdoc/>
    public override bool WantsToReceive => _listening && !_acceptPaused && !_acceptHeld && !_ringAccepts;

    /// <inheritdoc/>
    public override bool WantsToSend => false;

    /// <summary>Set while an accept queue is full: the listener is not watched, clients wait in the kernel's backlog. Loop thread.</summary>
    internal bool AcceptHeld
    {
        get => _acceptHeld;
        set
        {
            if (_acceptHeld != value)
            {
                _acceptHeld = value;
                if (IsAttached && _listening)
                {
                    Loop.Update(this);
                }
            }
        }
    }

    /// <summary>
    /// Set (before the server is added) by an accept queue that holds accepting while full: the listener then
    /// accepts through readiness on every backend, so a hold takes effect before the next accept (a multishot
    /// accept on io_uring would accept on until its cancel reached the kernel).
    /// </summary>
    internal bool HoldsAccepts { get; init; }

    /// <summary>Called on the loop thread once the listener has closed (<see cref="StopListening"/>, a shutdown, a close).</summary>
    internal Action? ListeningStopped { get; set; }

    /// <summary>Of <see cref="RejectedCount"/>, the clients turned away because the connection cap was reached. Loop thread (or after the loop has stopped).</summary>
    internal long RejectedAtLimitCount { get; private set; }

    /// <summary>Of <see cref="RejectedCount"/>, the clients turned away because their address had <see cref="TcpServerOptions.MaxConnectionsPerAddress"/> open. Loop thread (or after the loop has stopped).</summary>
    internal long RejectedPerAddressCount { get; private set; }

    /// <summary>Bytes queued by the connections' sends and not yet written, over every connection. Any thread.</summary>
    internal long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>Times a connection reached its high watermark and stopped reading its peer. Any thread.</summary>
    internal long ReadPauseCount => Interlocked.Read(ref _readPauses);

    /// <summary>Where closed connections are reported for <c>eventio.tcp.connection.duration</c> (set by <see cref="Diagnostics.EventIOMetrics"/>).</summary>
    internal Diagnostics.TcpServerMetrics? Metrics { get; set; }

    /// <summary>True while a descriptor is held in reserve for the out-of-descriptors path (for tests).</summary>
    internal bool HoldsSpareDescriptor => _listening && _reserve.HoldsSpare;

    /// <summary>Accepts up to <see cref="TcpServerOptions.AcceptBatch"/> pending connections.</summary>
    public override void HandleReceive()
    {
        for (int i = 0; i < _options.AcceptBatch && _listening && !_acceptHeld && !_acceptPaused; i++)
        {
            SafeSocketHandle? client = _reserve.Accept(_handle, out SocketError error);
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

            Accepted(client);
        }
    }

    /// <inheritdoc/>
    public override void HandleSend()
    {
    }

    /// <summary>Closes the listener; connections already accepted carry on. Idempotent. Loop thread.</summary>
    /// <exception cref="InvalidOperationException">Not on the loop thread (while listening).</exception>
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
        StopRingAccepts(); // a request keeps the listener's file alive until it ends: it is cancelled first
        _listener.Dispose();
        _reserve.Leave();
        ListeningStopped?.Invoke();
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
    /// <exception cref="InvalidOperationException">Not on the loop thread.</exception>
    public void Shutdown(TimeSpan? drainTimeout, Action? onDrained = null)
    {
        if (IsAttached)
        {
            Loop.ThrowIfNotOnLoopThread(); // also when the listener is already closed
        }

        StopListening();
        _onDrained += onDrained;
        _draining = true;
        foreach (ConnectionShard shard in _shards)
        {
            OnShardLoop(shard, static (s, t) => CloseGracefully(s, t), drainTimeout);
        }

        if (Volatile.Read(ref _open) == 0 && _onDrained is not null && IsAttached)
        {
            Loop.Post(s_notifyIfDrained, this);
        }
    }

    /// <inheritdoc/>
    protected override void OnAdded()
    {
        if (_shards.Length > 0)
        {
            return; // added again after a Remove: same loop, same connections
        }

        // Shard 0 is this loop; each other child loop gets one; accepted connections go to the targets in turn.
        var shards = new List<ConnectionShard> { new(Loop, 0) };
        foreach (EventLoop child in _options.ChildLoops ?? [])
        {
            if (!shards.Exists(s => ReferenceEquals(s.Loop, child)))
            {
                shards.Add(new ConnectionShard(child, shards.Count));
            }
        }

        _shards = [.. shards];
        StartRing();
        _targets = _options.ChildLoops is { } children ? [.. children.Select(c => _shards.First(s => ReferenceEquals(s.Loop, c)))] : [_shards[0]];
    }

    /// <inheritdoc/>
    protected override void OnClosing()
    {
        StopListening();
        foreach (ConnectionShard shard in _shards)
        {
            OnShardLoop(shard, static (s, _) => CloseAll(s), null);
        }
    }

    /// <inheritdoc/>
    protected override void ReleaseHandle() => _listener.Dispose();

    /// <summary>What accept does on EMFILE/ENFILE: shed the backlog, stop watching the listener, retry later.</summary>
    internal void PauseAccepting(SocketError error)
    {
        StopRingAccepts();
        RejectedCount += _reserve.Shed(_handle, _options.AcceptBatch, MonotonicClock.ToTicks(_options.AcceptRetryDelay));
        _acceptPaused = true;
        AcceptPauseCount++;
        if (!_exhausted)
        {
            _exhausted = true;
            NetLog.AcceptPaused(Loop.Logger, _name, error, _options.AcceptRetryDelay.TotalMilliseconds);
        }

        _resumeTimer = Loop.CallLater(_options.AcceptRetryDelay, s_resumeAccepting, this);
    }

    /// <summary>On the connection's loop, once it has closed and the closing callback returned.</summary>
    internal void Release(TcpConnection connection)
    {
        ShardOf(connection.Loop)?.Remove(connection);
        _limit?.Release();
        if (connection.LimitedAddress is UInt128 address)
        {
            _addressLimit?.Release(address);
        }

        Metrics?.ConnectionClosed(connection);
        if (connection.CloseReason == TcpCloseReason.IdleTimeout)
        {
            Interlocked.Increment(ref _idleClosed);
        }
        else if (connection.CloseReason == TcpCloseReason.SendQueueFull)
        {
            Interlocked.Increment(ref _sendQueueFull);
        }

        if (Interlocked.Decrement(ref _open) == 0 && _draining)
        {
            if (Loop.IsOnLoopThread)
            {
                NotifyIfDrained();
            }
            else
            {
                Loop.Post(s_notifyIfDrained, this);
            }
        }
    }

    /// <summary>A connection's send queue grew (or shrank, negative) by <paramref name="bytes"/>: only where a send did not finish at once.</summary>
    internal void AddQueued(long bytes) => Interlocked.Add(ref _queuedBytes, bytes);

    /// <summary>A connection reached its high watermark and stopped reading.</summary>
    internal void CountReadPause() => Interlocked.Increment(ref _readPauses);

    /// <summary>Makes the connection for an accepted socket, on the loop of <paramref name="shard"/>.</summary>
    internal void SetUp(SafeSocketHandle client, ConnectionShard shard, UInt128? address)
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
            connection.LimitedAddress = address;
            if (_options.IdleTimeout != Timeout.InfiniteTimeSpan)
            {
                connection.SetIdleTimeout(_options.IdleTimeout);
            }

            shard.Add(connection);
            shard.Loop.Add(connection); // OnOpened runs here; a throw there closes the connection (the loop logs it)
        }
        catch (Exception ex)
        {
            NetLog.ConnectionSetupFailed(shard.Loop.Logger, _name, ex);
            if (connection is not null)
            {
                connection.Close(); // released through the usual path
            }
            else
            {
                SocketCalls.Close(client);
                Abandon(address);
            }
        }
    }

    private static Socket Listen(IPEndPoint endPoint, TcpServerOptions options)
    {
        var listener = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            SocketOptions.EnableReuseAddress(listener);
            if (options.ReusePort)
            {
                SocketOptions.EnableReusePort(listener);
            }

            listener.Bind(endPoint);
            listener.Listen(options.Backlog);
            listener.Blocking = false;
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    private static void CloseGracefully(ConnectionShard shard, TimeSpan? drainTimeout)
    {
        foreach (TcpConnection connection in shard.Snapshot())
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
    }

    private static void CloseAll(ConnectionShard shard)
    {
        foreach (TcpConnection connection in shard.Snapshot())
        {
            connection.Close();
        }
    }

    // Runs work on the shard's loop: at once when that is this thread, else posted (dropped if that loop is
    // gone: its disposal closed its connections).
    private static void OnShardLoop(ConnectionShard shard, Action<ConnectionShard, TimeSpan?> work, TimeSpan? timeout)
    {
        if (shard.Loop.IsOnLoopThread)
        {
            work(shard, timeout);
        }
        else
        {
            shard.Loop.Post(() => work(shard, timeout)); // rare (shutdown of a multi-loop server): a closure is fine
        }
    }

    // A client accepted, by accept4 or by the ring: counted, turned away at the cap, or handed to its loop.
    private void Accepted(SafeSocketHandle client)
    {
        // The kernel hands out the lowest free descriptor: one this high means the table is nearly full.
        if ((long)client.DangerousGetHandle() >= _descriptorCeiling)
        {
            RejectedCount++;
            SocketCalls.Close(client);
            PauseAccepting(SocketError.TooManyOpenSockets);
            return;
        }

        if (_exhausted)
        {
            _exhausted = false;
            NetLog.AcceptResumed(Loop.Logger, _name);
        }

        UInt128? address = null;
        if (_addressLimit is not null && Interop.SocketSyscalls.PeerKey((int)client.DangerousGetHandle(), out UInt128 key))
        {
            if (!_addressLimit.TryAcquire(key))
            {
                RejectedCount++;
                RejectedPerAddressCount++;
                SocketCalls.Close(client); // as at the cap: told at once
                return;
            }

            address = key; // no address (the peer is gone already): not counted; its first read reports it
        }

        if (_limit is not null && !_limit.TryAcquire())
        {
            if (address is UInt128 counted)
            {
                _addressLimit!.Release(counted);
            }

            RejectedCount++;
            RejectedAtLimitCount++;
            SocketCalls.Close(client); // accepted and closed at once: the client learns now, not after a backlog timeout
            return;
        }

        AcceptedCount++;
        Interlocked.Increment(ref _open);
        HandOff(client, address);
    }

    private void HandOff(SafeSocketHandle client, UInt128? address)
    {
        ConnectionShard target = _targets[_nextTarget];
        _nextTarget = _nextTarget + 1 == _targets.Length ? 0 : _nextTarget + 1;
        if (ReferenceEquals(target.Loop, Loop))
        {
            SetUp(client, target, address);
        }
        else if (!target.Loop.Post(TcpHandOff.Deliver, new TcpHandOff(this, target, client, address)))
        {
            SocketCalls.Close(client); // that loop is gone
            Abandon(address);
        }
    }

    // A connection counted at accept never came to be.
    private void Abandon(UInt128? address)
    {
        _limit?.Release();
        if (address is UInt128 counted)
        {
            _addressLimit?.Release(counted);
        }

        Interlocked.Decrement(ref _open);
    }

    private ConnectionShard? ShardOf(EventLoop? loop)
    {
        foreach (ConnectionShard shard in _shards)
        {
            if (ReferenceEquals(shard.Loop, loop))
            {
                return shard;
            }
        }

        return loop is null && _shards.Length > 0 ? _shards[0] : null;
    }

    private void ResumeAccepting()
    {
        _resumeTimer = null;
        if (!_listening)
        {
            return; // stopped meanwhile: nothing to resume, no spare to reopen
        }

        _acceptPaused = false;
        Loop.Update(this);
        ResumeRingAccepts();
    }

    private void NotifyIfDrained()
    {
        if (_onDrained is { } onDrained && Volatile.Read(ref _open) == 0)
        {
            _onDrained = null;
            onDrained();
        }
    }
}
