using System.Net;
using System.Net.Sockets;
using EventIO.Net;
using EventIO.Work;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventIO.Servers;

/// <summary>
/// The recipe's whole system on one loop: UDP time, UDP echo, TCP echo and UDP Fibonacci (with its worker
/// pool), as <c>eventio serve</c> runs it. Binds everything in the constructor, serves in <see cref="Run"/>,
/// and shuts down gracefully on <see cref="RequestShutdown"/>.
/// </summary>
/// <remarks><b>Threading:</b> construct and <see cref="Run"/> on one thread; <see cref="RequestShutdown"/> from any
/// thread (a signal handler, say).</remarks>
public sealed class RecipeHost : IDisposable
{
    private readonly RecipeHostOptions _options;
    private readonly List<Listener> _listeners = [];
    private readonly List<(string Name, UdpServer Server)> _udpServers = [];
    private readonly ILogger _logger;
    private int _shutdownRequested;

    /// <summary>Creates the loop and binds every server <paramref name="options"/> asks for.</summary>
    /// <exception cref="ListenException">A server could not bind (the message names it and its address).</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public RecipeHost(RecipeHostOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        Loop = new EventLoop(new EventLoopOptions { Backend = options.Backend, Logger = logger, SlowCallbackThreshold = options.SlowCallbackThreshold });
        try
        {
            if (options.Servers.HasFlag(ServerKinds.UdpTime))
            {
                TimeServer = AddUdp("udp-time", options.TimePort, ep => new UdpTimeServer(Loop, ep));
            }

            if (options.Servers.HasFlag(ServerKinds.UdpEcho))
            {
                EchoServer = AddUdp("udp-echo", options.EchoPort, ep => new UdpEchoServer(Loop, ep));
            }

            if (options.Servers.HasFlag(ServerKinds.TcpEcho))
            {
                var tcpOptions = new TcpServerOptions { IdleTimeout = options.IdleTimeout, MaxConnections = options.MaxConnections };
                TcpEchoServer = Bind("tcp-echo", options.TcpEchoPort, ep => new TcpServer(Loop, ep, TcpEchoConnection.Create, tcpOptions), static s => s.LocalEndPoint);
                Loop.Add(TcpEchoServer);
            }

            if (options.Servers.HasFlag(ServerKinds.UdpFibonacci))
            {
                Pool = new WorkerPool(Loop, options.Workers, options.WorkQueueCapacity, options.WorkerPriority);
                FibonacciServer = AddUdp("udp-fib", options.FibPort, ep => new UdpFibonacciServer(Loop, ep, Pool, options.FibMax));
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

    /// <summary>The UDP time server, if started.</summary>
    public UdpTimeServer? TimeServer { get; }

    /// <summary>The UDP echo server, if started.</summary>
    public UdpEchoServer? EchoServer { get; }

    /// <summary>The TCP echo server, if started.</summary>
    public TcpServer? TcpEchoServer { get; }

    /// <summary>The UDP Fibonacci server, if started.</summary>
    public UdpFibonacciServer? FibonacciServer { get; }

    /// <summary>The Fibonacci server's worker pool, if started.</summary>
    public WorkerPool? Pool { get; }

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
    /// <c>error: shutting down</c>, the UDP servers close, the TCP server stops accepting and every
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
        foreach ((_, UdpServer server) in _udpServers)
        {
            server.Close();
        }

        // Keep a little of the deadline for closing what is left after Run returns.
        TimeSpan drain = _options.ShutdownTimeout - TimeSpan.FromMilliseconds(250);
        Loop.CallLater(drain > TimeSpan.Zero ? drain : TimeSpan.Zero, static s => ((EventLoop)s!).Stop(), Loop);
        if (TcpEchoServer is null)
        {
            Loop.Stop();
        }
        else
        {
            TcpEchoServer.Shutdown(Loop.Stop);
        }
    }

    private T AddUdp<T>(string name, int port, Func<IPEndPoint, T> create)
        where T : UdpServer
    {
        T server = Bind(name, port, create, static s => s.LocalEndPoint);
        _udpServers.Add((name, server));
        Loop.Add(server);
        return server;
    }

    private void LogTotals()
    {
        foreach ((string name, UdpServer server) in _udpServers)
        {
            RecipeHostLog.UdpTotals(_logger, name, server.DatagramsReceived, server.RepliesSent, server.RepliesDropped, server.ReceiveErrors);
        }

        if (FibonacciServer is not null)
        {
            RecipeHostLog.FibonacciTotals(_logger, FibonacciServer.InvalidRequests, FibonacciServer.BusyReplies, FibonacciServer.PendingRequests);
        }

        if (TcpEchoServer is not null)
        {
            RecipeHostLog.TcpTotals(_logger, "tcp-echo", TcpEchoServer.AcceptedCount, TcpEchoServer.RejectedCount, TcpEchoServer.IdleClosedCount, TcpEchoServer.AcceptPauseCount);
        }
    }

    private T Bind<T>(string name, int port, Func<IPEndPoint, T> create, Func<T, IPEndPoint> boundTo)
    {
        var endPoint = new IPEndPoint(_options.Host, port);
        T server;
        try
        {
            server = create(endPoint);
        }
        catch (SocketException ex)
        {
            throw new ListenException(name, endPoint, ex);
        }

        _listeners.Add(new Listener(name, boundTo(server)));
        return server;
    }
}
