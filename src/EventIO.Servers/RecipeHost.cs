using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using EventIO.Diagnostics;
using EventIO.Net;
using EventIO.Work;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventIO.Servers;

/// <summary>
/// The recipe's whole system: the servers of <see cref="RecipeServers.All"/> (UDP time, UDP echo, TCP echo and
/// UDP Fibonacci with its worker pool) on <see cref="RecipeHostOptions.Loops"/> event loops, as
/// <c>eventio serve</c> runs it. Binds everything in the constructor, serves in <see cref="Run"/>, and shuts
/// down gracefully on <see cref="RequestShutdown"/>.
/// </summary>
/// <remarks>
/// <para><b>Several loops:</b> every server runs on every loop, sharing its port (<c>SO_REUSEPORT</c>: the
/// kernel keeps one UDP peer on one socket and spreads TCP connections), or for TCP one acceptor hands
/// connections to the loops in turn (<see cref="TcpAcceptMode.SingleAcceptor"/>). The worker pool is shared;
/// a Fibonacci result goes back to the loop that took the request. Totals add up every loop.</para>
/// <para><b>Threading:</b> construct on one thread, then <see cref="Run"/> (the loops run on threads of their
/// own, <c>loop-0</c>…); <see cref="RequestShutdown"/> from any thread (a signal handler, say).</para>
/// </remarks>
[SupportedOSPlatform("linux")]
public sealed class RecipeHost : IDisposable
{
    private readonly RecipeHostOptions _options;
    private readonly ServerContext _context;
    private readonly List<Listener> _listeners = [];
    private readonly Dictionary<string, LoopHandler[]> _servers = new(StringComparer.OrdinalIgnoreCase);
    private readonly ILogger _logger;
    private MetricsSummary? _summary;
    private int _shutdownRequested;
    private int _draining; // during a shutdown: loops not yet through their close step, plus TCP servers still flushing

    /// <summary>Creates the loops and binds every server <paramref name="options"/> asks for, in the table's order.</summary>
    /// <exception cref="ListenException">A server could not bind (the message names it and its address).</exception>
    /// <exception cref="ArgumentException">An option is out of range or names an unknown server.</exception>
    public RecipeHost(RecipeHostOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        RaiseDescriptorLimit();
        Loops = new EventLoopGroup(options.Loops, new EventLoopOptions { Backend = options.Backend, Logger = logger, SlowCallbackThreshold = options.SlowCallbackThreshold, Tracer = options.Tracer });
        _context = new ServerContext(options, Loops.Loops);
        try
        {
            foreach (ServerDefinition definition in options.SelectedServers())
            {
                Start(definition);
            }

            ObserveAll();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The event loops every server runs on.</summary>
    public EventLoopGroup Loops { get; }

    /// <summary>Every listening address, in start order, with the port really bound (one line per server, whatever the loops).</summary>
    public IReadOnlyList<Listener> Listeners => _listeners;

    /// <summary>The servers started, by name (<c>udp-time</c>, …): one per loop (one in all for a single TCP acceptor).</summary>
    public IReadOnlyDictionary<string, LoopHandler[]> Servers => _servers;

    /// <summary>The worker pool, if a server asked for one.</summary>
    public WorkerPool? Pool => _context.PoolIfStarted;

    /// <summary>
    /// The <c>EventIO</c> meter's instruments over every loop, server and the pool (servers tagged with their
    /// table names: <c>tcp-echo</c>, …): what <c>dotnet-counters monitor --counters EventIO</c> shows.
    /// </summary>
    public EventIOMetrics Metrics { get; } = new();

    /// <summary>
    /// Runs the loops until a shutdown completes (or <paramref name="cancellationToken"/> stops them at once), then
    /// logs each server's totals over every loop (Information): datagrams received, replies sent and dropped,
    /// connections accepted and turned away.
    /// </summary>
    public void Run(CancellationToken cancellationToken = default)
    {
        if (_options.MetricsInterval != Timeout.InfiniteTimeSpan)
        {
            _summary = new MetricsSummary(Metrics, _options.MetricsInterval, _logger);
        }

        try
        {
            Loops.Run(cancellationToken);
        }
        finally
        {
            _summary?.Dispose();
        }

        LogTotals();
    }

    /// <summary>
    /// Starts a graceful shutdown from any thread: Fibonacci requests still queued are answered
    /// <c>error: shutting down</c>, the UDP servers close, the TCP servers stop accepting and every
    /// connection stops reading, flushes what it has queued and closes; then <see cref="Run"/> returns.
    /// After <see cref="RecipeHostOptions.ShutdownTimeout"/> it returns regardless.
    /// </summary>
    /// <returns>False if a shutdown was already requested.</returns>
    public bool RequestShutdown()
    {
        if (Interlocked.Exchange(ref _shutdownRequested, 1) != 0)
        {
            return false;
        }

        Loops[0].Post(static s => ((RecipeHost)s!).BeginShutdown(), this);
        return true;
    }

    /// <summary>Stops the workers (queued work is cancelled) and closes the loops with every socket left.</summary>
    public void Dispose()
    {
        // Running computations are not waited for: workers are background threads, and a naive
        // fib(45) may take longer than any shutdown deadline.
        Pool?.Shutdown(TimeSpan.Zero);
        Loops.Dispose();
        Metrics.Dispose();
    }

    /// <summary>Reads the meter and logs the summary line now (for tests); null unless <see cref="RecipeHostOptions.MetricsInterval"/> is set and running.</summary>
    internal string? ReportMetricsNow() => _summary?.Report();

    // Every connection is a descriptor: the soft limit goes up to the hard one before anything is bound (the
    // .NET runtime already does so at start; a NativeAOT build does not), and a hard limit below what
    // --max-connections asks for is said once, at start, rather than discovered under load.
    private void RaiseDescriptorLimit()
    {
        if (DescriptorLimit.RaiseToHard() is not { } limit)
        {
            return;
        }

        if (limit.Raised)
        {
            RecipeHostLog.DescriptorLimitRaised(_logger, limit.Soft, limit.Hard, limit.PreviousSoft);
        }
        else
        {
            RecipeHostLog.DescriptorLimit(_logger, limit.Soft, limit.Hard);
        }

        int overhead = DescriptorOverhead(_options);
        long needed = (long)_options.MaxConnections + overhead;
        if (_options.MaxConnections > 0 && limit.Soft < needed)
        {
            RecipeHostLog.DescriptorLimitTooLow(_logger, limit.Hard, _options.MaxConnections, needed, overhead, Math.Max(0, limit.Soft - overhead));
        }
    }

    // Descriptors the process holds besides connections: the runtime's own (about 30), per loop its poller,
    // waker and a listener or socket per server, a reserve per TCP server, and the headroom the TCP servers
    // keep free for the runtime (TcpServerOptions.DescriptorHeadroom).
    private static int DescriptorOverhead(RecipeHostOptions options) => 32 + TcpServerOptions.DefaultDescriptorHeadroom + (options.Loops * (4 + (2 * options.SelectedServers().Count)));

    private void ObserveAll()
    {
        Metrics.Observe(Loops);
        foreach ((string name, LoopHandler[] servers) in _servers)
        {
            foreach (LoopHandler server in servers)
            {
                if (server is TcpServer tcp)
                {
                    Metrics.Observe(tcp, name);
                }
                else if (server is UdpServer udp)
                {
                    Metrics.Observe(udp, name);
                }
            }

            IFibonacciCounters[] fib = [.. servers.OfType<IFibonacciCounters>()];
            if (fib.Length > 0)
            {
                FibonacciMetrics.Observe(Metrics, name, fib);
            }
        }

        if (Pool is { } pool)
        {
            Metrics.Observe(pool, "workers");
        }
    }

    // One server per loop, all on the port the first one bound (port 0: the one the kernel picked), or a
    // single TCP acceptor on the first loop.
    private void Start(ServerDefinition definition)
    {
        var endPoint = new IPEndPoint(_options.Host, _options.PortOf(definition));
        bool single = definition.Protocol == ServerProtocol.Tcp && _context.TcpOptions.ChildLoops is not null;
        var servers = new LoopHandler[single ? 1 : Loops.Count];
        for (int i = 0; i < servers.Length; i++)
        {
            servers[i] = Create(definition, endPoint, Loops[i]);
            endPoint = new IPEndPoint(_options.Host, BoundEndPoint(servers[i], endPoint).Port);
        }

        _servers.Add(definition.Name, servers);
        _listeners.Add(new Listener(definition.Name, endPoint));
    }

    private LoopHandler Create(ServerDefinition definition, IPEndPoint endPoint, EventLoop loop)
    {
        LoopHandler server;
        try
        {
            server = definition.Create(_context, endPoint);
        }
        catch (SocketException ex)
        {
            throw new ListenException(definition.Name, endPoint, ex);
        }

        try
        {
            loop.Add(server);
        }
        catch
        {
            server.Dispose(); // bound but not registered: the loop would not close it
            throw;
        }

        return server;
    }

    private static IPEndPoint BoundEndPoint(LoopHandler server, IPEndPoint asked) => server switch
    {
        TcpServer tcp => tcp.LocalEndPoint,
        UdpServer udp => udp.LocalEndPoint,
        _ => asked,
    };

    private void BeginShutdown()
    {
        // Queued Fibonacci work is cancelled first: its callbacks are posted to their loops ahead of the
        // close below, so those clients get "error: shutting down" while the servers can still answer.
        // Work already running finishes on its own; a result that comes after the close is dropped.
        Pool?.Shutdown(TimeSpan.Zero);
        _draining = Loops.Count + _servers.Values.SelectMany(s => s).Count(s => s is TcpServer);
        TimeSpan drain = _options.ShutdownTimeout - TimeSpan.FromMilliseconds(250); // a little kept for what is left after Run
        drain = drain > TimeSpan.Zero ? drain : TimeSpan.Zero;
        Loops[0].CallLater(drain, static s => ((EventLoopGroup)s!).Stop(), Loops);
        foreach (EventLoop loop in Loops.Loops)
        {
            loop.Post(static s =>
            {
                (RecipeHost host, EventLoop on, TimeSpan d) = ((RecipeHost, EventLoop, TimeSpan))s!;
                host.CloseServers(on, d);
            }, (this, loop, drain));
        }
    }

    // On each loop, after the cancelled Fibonacci requests were answered: close its UDP servers, drain its
    // TCP servers. When every loop has done so and every TCP server has drained, all loops stop.
    private void CloseServers(EventLoop loop, TimeSpan drain)
    {
        foreach (LoopHandler server in _servers.Values.SelectMany(s => s).Where(s => ReferenceEquals(s.Loop, loop)))
        {
            if (server is TcpServer tcp)
            {
                tcp.Shutdown(drain, OnDrained);
            }
            else
            {
                server.Close();
            }
        }

        OnDrained(); // this loop's step is done
    }

    private void OnDrained()
    {
        if (Interlocked.Decrement(ref _draining) == 0)
        {
            Loops.Stop();
        }
    }

    private void LogTotals()
    {
        if (!_logger.IsEnabled(LogLevel.Information))
        {
            return;
        }

        if (Pool is { } pool)
        {
            string priority = pool.Priority.ToString().ToLowerInvariant();
            string unprivileged = pool.Priority == WorkerPriority.Adaptive && pool.PromotionRefused ? ", may not leave SCHED_IDLE: items start at normal priority" : "";
            long completed = pool.CompletedCount, promotions = pool.Promotions, demotions = pool.Demotions, retired = pool.RetiredWorkers;
            RecipeHostLog.WorkerTotals(_logger, priority, unprivileged, completed, promotions, demotions, retired);
        }

        foreach ((string name, LoopHandler[] servers) in _servers)
        {
            UdpServer[] udp = [.. servers.OfType<UdpServer>()];
            if (udp.Length > 0)
            {
                long received = udp.Sum(s => s.DatagramsReceived), sent = udp.Sum(s => s.RepliesSent), dropped = udp.Sum(s => s.RepliesDropped), errors = udp.Sum(s => s.ReceiveErrors);
                RecipeHostLog.UdpTotals(_logger, name, received, sent, dropped, errors);
            }

            IFibonacciServer[] fib = [.. servers.OfType<IFibonacciServer>()];
            if (fib.Length > 0)
            {
                long invalid = fib.Sum(s => s.InvalidRequests), busy = fib.Sum(s => s.BusyReplies);
                int pending = fib.Sum(s => s.PendingRequests);
                RecipeHostLog.FibonacciTotals(_logger, name, invalid, busy, pending);
            }

            TcpServer[] tcp = [.. servers.OfType<TcpServer>()];
            if (tcp.Length > 0)
            {
                long accepted = tcp.Sum(s => s.AcceptedCount), rejected = tcp.Sum(s => s.RejectedCount), idle = tcp.Sum(s => s.IdleClosedCount);
                long full = tcp.Sum(s => s.SendQueueFullCount), pauses = tcp.Sum(s => s.AcceptPauseCount);
                string byLoop = tcp.Length > 1 ? "; accepted by loop: " + string.Join(", ", tcp.Select(s => s.AcceptedCount)) : ""; // a listener per loop: how the kernel spread them
                RecipeHostLog.TcpTotals(_logger, name, accepted, rejected, idle, full, pauses, byLoop);
            }
        }
    }
}
