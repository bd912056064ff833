using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using EventIO.Net;
using EventIO.Work;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventIO.Servers;

/// <summary>
/// The recipe's whole system on one loop: the servers of <see cref="RecipeServers.All"/> (UDP time, UDP echo,
/// TCP echo and UDP Fibonacci with its worker pool), as <c>eventio serve</c> runs it. Binds everything in
/// the constructor, serves in <see cref="Run"/>, and shuts down gracefully on <see cref="RequestShutdown"/>.
/// </summary>
/// <remarks><b>Threading:</b> construct and <see cref="Run"/> on one thread (or construct, then run on
/// another); <see cref="RequestShutdown"/> from any thread (a signal handler, say).</remarks>
[SupportedOSPlatform("linux")]
public sealed class RecipeHost : IDisposable
{
    private readonly RecipeHostOptions _options;
    private readonly ServerContext _context;
    private readonly List<Listener> _listeners = [];
    private readonly Dictionary<string, LoopHandler> _servers = new(StringComparer.OrdinalIgnoreCase);
    private readonly ILogger _logger;
    private int _shutdownRequested;
    private int _draining; // TCP servers still flushing their connections during a shutdown

    /// <summary>Creates the loop and binds every server <paramref name="options"/> asks for, in the table's order.</summary>
    /// <exception cref="ListenException">A server could not bind (the message names it and its address).</exception>
    /// <exception cref="ArgumentException">An option is out of range or names an unknown server.</exception>
    public RecipeHost(RecipeHostOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _context = new ServerContext(options);
        Loop = new EventLoop(new EventLoopOptions { Backend = options.Backend, Logger = logger, SlowCallbackThreshold = options.SlowCallbackThreshold });
        try
        {
            foreach (ServerDefinition definition in options.SelectedServers())
            {
                Start(definition);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The loop every server runs on.</summary>
    public EventLoop Loop { get; }

    /// <summary>Every listening socket, in start order, with the address really bound.</summary>
    public IReadOnlyList<Listener> Listeners => _listeners;

    /// <summary>The servers started, by name (<c>udp-time</c>, …).</summary>
    public IReadOnlyDictionary<string, LoopHandler> Servers => _servers;

    /// <summary>The worker pool, if a server asked for one.</summary>
    public WorkerPool? Pool => _context.PoolIfStarted;

    /// <summary>
    /// Serves until a shutdown completes (or <paramref name="cancellationToken"/> stops the loop at once), then
    /// logs each server's totals (Information): datagrams received, replies sent and dropped, connections
    /// accepted and turned away.
    /// </summary>
    public void Run(CancellationToken cancellationToken = default)
    {
        Loop.Run(cancellationToken);
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

        Loop.Post(static s => ((RecipeHost)s!).BeginShutdown(), this);
        return true;
    }

    /// <summary>Stops the workers (queued work is cancelled) and closes the loop with every socket left.</summary>
    public void Dispose()
    {
        // Running computations are not waited for: workers are background threads, and a naive
        // fib(45) may take longer than any shutdown deadline.
        Pool?.Shutdown(TimeSpan.Zero);
        Loop.Dispose();
    }

    private void Start(ServerDefinition definition)
    {
        var endPoint = new IPEndPoint(_options.Host, _options.PortOf(definition));
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
            Loop.Add(server);
        }
        catch
        {
            server.Dispose(); // bound but not registered: the loop would not close it
            throw;
        }

        _servers.Add(definition.Name, server);
        IPEndPoint bound = server switch
        {
            TcpServer tcp => tcp.LocalEndPoint,
            UdpServer udp => udp.LocalEndPoint,
            _ => endPoint,
        };
        _listeners.Add(new Listener(definition.Name, bound));
    }

    private void BeginShutdown()
    {
        // Queued Fibonacci work is cancelled first: its callbacks are posted ahead of the rest of the
        // shutdown, so those clients get "error: shutting down" while the server can still answer.
        // Work already running finishes on its own; a result that comes after the close is dropped.
        Pool?.Shutdown(TimeSpan.Zero);
        Loop.Post(static s => ((RecipeHost)s!).CloseServers(), this);
    }

    private void CloseServers()
    {
        // Keep a little of the deadline for closing what is left after Run returns.
        TimeSpan drain = _options.ShutdownTimeout - TimeSpan.FromMilliseconds(250);
        drain = drain > TimeSpan.Zero ? drain : TimeSpan.Zero;
        Loop.CallLater(drain, static s => ((EventLoop)s!).Stop(), Loop);
        foreach (LoopHandler server in _servers.Values)
        {
            if (server is TcpServer tcp)
            {
                _draining++;
                tcp.Shutdown(drain, () => OnDrained());
            }
            else
            {
                server.Close();
            }
        }

        if (_draining == 0)
        {
            Loop.Stop();
        }
    }

    private void OnDrained()
    {
        if (--_draining == 0)
        {
            Loop.Stop();
        }
    }

    private void LogTotals()
    {
        foreach ((string name, LoopHandler server) in _servers)
        {
            if (server is UdpServer udp)
            {
                RecipeHostLog.UdpTotals(_logger, name, udp.DatagramsReceived, udp.RepliesSent, udp.RepliesDropped, udp.ReceiveErrors);
            }

            if (server is UdpFibonacciServer fib)
            {
                RecipeHostLog.FibonacciTotals(_logger, name, fib.InvalidRequests, fib.BusyReplies, fib.PendingRequests);
            }

            if (server is TcpServer tcp)
            {
                RecipeHostLog.TcpTotals(_logger, name, tcp.AcceptedCount, tcp.RejectedCount, tcp.IdleClosedCount, tcp.SendQueueFullCount, tcp.AcceptPauseCount);
            }
        }
    }
}
