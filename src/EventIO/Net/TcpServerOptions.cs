namespace EventIO.Net;

/// <summary>
/// Settings for a <see cref="TcpServer"/>. Servers built with the same options object (one per loop on the
/// same port) share one descriptor reserve for the out-of-descriptors path.
/// </summary>
public sealed class TcpServerOptions
{
    private DescriptorReserve? _reserve;

    /// <summary>The listen backlog (512; the recipe's <c>listen(1)</c> refuses clients under load).</summary>
    public int Backlog { get; init; } = 512;

    /// <summary>The most connections accepted per readiness event (64), so a connection storm cannot starve I/O.</summary>
    public int AcceptBatch { get; init; } = 64;

    /// <summary>Set TCP_NODELAY on accepted sockets (true: an echo must not wait for Nagle).</summary>
    public bool NoDelay { get; init; } = true;

    /// <summary>Bind with SO_REUSEPORT, so that several loops can each listen on the same port (false).</summary>
    public bool ReusePort { get; init; }

    /// <summary>How long accepting pauses when the process runs out of descriptors (EMFILE/ENFILE): 100 ms.</summary>
    public TimeSpan AcceptRetryDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The most connections open at once; 0 means no limit (0). A client beyond it is accepted and closed
    /// at once (so it is not left hanging in the backlog) and counted in <see cref="TcpServer.RejectedCount"/>.
    /// </summary>
    public int MaxConnections { get; init; }

    /// <summary>
    /// A cap shared with other servers (one per loop), counted instead of <see cref="MaxConnections"/>: the
    /// process-wide <c>--max-connections</c> of a server on every loop. Null: none.
    /// </summary>
    public ConnectionLimit? ConnectionLimit { get; init; }

    /// <summary>
    /// The most connections open at once from one IP address; 0 means no limit (0). A client beyond it is
    /// accepted and closed at once, and counted in <see cref="TcpServer.RejectedCount"/> (reason
    /// <c>max_connections_per_ip</c> in the metrics). Costs one <c>getpeername</c> per accept when on.
    /// </summary>
    public int MaxConnectionsPerAddress { get; init; }

    /// <summary>
    /// A per-address cap shared with other servers (one per loop), counted instead of
    /// <see cref="MaxConnectionsPerAddress"/>. Null: none.
    /// </summary>
    public AddressConnectionLimit? AddressLimit { get; init; }

    /// <summary>
    /// One acceptor for many loops (Netty's boss and worker groups), for kernels or platforms without
    /// <c>SO_REUSEPORT</c>: accepted connections are handed to these loops in turn, and each lives on its
    /// loop from then on. The server's own loop should be among them. Null: every connection stays on the
    /// server's loop.
    /// </summary>
    public IReadOnlyList<EventLoop>? ChildLoops { get; init; }

    /// <summary>
    /// Close a connection whose peer has sent nothing for this long; <see cref="Timeout.InfiniteTimeSpan"/>
    /// (the default) never does.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary>
    /// Descriptors kept free for the rest of the process (64; 0: none). A client accepted on a descriptor at or
    /// above the soft <c>RLIMIT_NOFILE</c> minus this (read when the server is made) is closed at once and
    /// accepting pauses, as at EMFILE. Without it, connections can take the last descriptor, and the .NET
    /// runtime then fails whatever needs one more: starting a thread (a pipe), reading <c>/proc/stat</c>,
    /// loading an assembly — surfacing as an <see cref="OutOfMemoryException"/> in whatever code asked.
    /// </summary>
    public int DescriptorHeadroom { get; init; } = DefaultDescriptorHeadroom;

    /// <summary>The default of <see cref="DescriptorHeadroom"/>: 64 descriptors.</summary>
    public const int DefaultDescriptorHeadroom = 64;

    /// <summary>
    /// The descriptor reserve of the servers built with this options object: one server per loop on the
    /// same port shares one reserve, so that shedding on one loop cannot lose it to another.
    /// </summary>
    internal DescriptorReserve Reserve
    {
        get
        {
            if (_reserve is null)
            {
                Interlocked.CompareExchange(ref _reserve, new DescriptorReserve(), null);
            }

            return _reserve!;
        }
    }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Backlog, 1, nameof(Backlog));
        ArgumentOutOfRangeException.ThrowIfLessThan(AcceptBatch, 1, nameof(AcceptBatch));
        ArgumentOutOfRangeException.ThrowIfLessThan(AcceptRetryDelay, TimeSpan.Zero, nameof(AcceptRetryDelay));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxConnections, nameof(MaxConnections));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxConnectionsPerAddress, nameof(MaxConnectionsPerAddress));
        ArgumentOutOfRangeException.ThrowIfNegative(DescriptorHeadroom, nameof(DescriptorHeadroom));
        if (ChildLoops is { Count: 0 })
        {
            throw new ArgumentException("ChildLoops must hold at least one loop (or be null).", nameof(ChildLoops));
        }
        if (IdleTimeout != Timeout.InfiniteTimeSpan)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(IdleTimeout, TimeSpan.Zero, nameof(IdleTimeout));
        }
    }
}
