using System.Net;
using System.Net.Sockets;
using System.Reflection;
using EventIO.Diagnostics;
using EventIO.Net;
using EventIO.Work;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EventIO.Hosting;

/// <summary>
/// Runs the event loops and the servers added with <see cref="EventIOBuilderExtensions"/> while the host runs:
/// binds every server in <see cref="StartAsync"/> (a bind that fails fails the host's start, with the server's
/// name and address), runs each loop on its own thread (<c>loop-0</c>, …), and stops gracefully in
/// <see cref="StopAsync"/>: UDP servers close, TCP servers stop accepting and every connection flushes what it
/// has queued and closes, until the host's shutdown timeout, after which what is left is closed at once.
/// </summary>
/// <remarks>
/// <para><b>systemd:</b> with <c>UseSystemd()</c> the host tells systemd READY=1 once every hosted service has
/// started, so only after every socket is bound, and STOPPING=1 when it begins to stop.</para>
/// <para><b>Failure:</b> a loop whose poller fails (a broken invariant) is logged as critical and stops the
/// application.</para>
/// <para><b>Threading:</b> the host calls start and stop; the read-only members from any thread.</para>
/// </remarks>
public sealed class EventIOHostedService : IHostedService, IDisposable
{
    private readonly IServiceProvider _services;
    private readonly ILogger _logger;
    private readonly ILoggerFactory _loggerFactory;
    private readonly EventIOMetrics _metrics;
    private readonly List<EventIOListener> _listeners = [];
    private readonly Dictionary<string, LoopHandler[]> _servers = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private EventLoopGroup? _group;
    private Task _exited = Task.CompletedTask;
    private volatile bool _stopping;
    private int _draining;

    internal EventIOHostedService(IServiceProvider services)
    {
        _services = services;
        _loggerFactory = services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger("EventIO.Hosting");
        _metrics = services.GetRequiredService<EventIOMetrics>();
    }

    /// <summary>The running loops; null before <see cref="StartAsync"/>.</summary>
    public EventLoopGroup? Loops => _group;

    /// <summary>Every listening socket, one per server (whatever the loops), with the port really bound.</summary>
    public IReadOnlyList<EventIOListener> Listeners => _listeners;

    /// <summary>The servers added as <paramref name="name"/>, one per loop (<see cref="TcpServer"/> or your <see cref="UdpServer"/>).</summary>
    /// <exception cref="KeyNotFoundException">No server has that name (or the service has not started).</exception>
    public IReadOnlyList<LoopHandler> GetServers(string name) => _servers[name];

    /// <summary>Creates the loops, binds and registers every server, and starts the loop threads.</summary>
    /// <exception cref="InvalidOperationException">A server could not bind its address, or two servers share a name.</exception>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_group is not null)
        {
            throw new InvalidOperationException("The EventIO hosted service is already started.");
        }

        EventLoopHostOptions options = _services.GetRequiredService<IOptions<EventLoopHostOptions>>().Value;
        ServerRegistration[] registrations = [.. _services.GetServices<ServerRegistration>()];
        if (registrations.GroupBy(r => r.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new InvalidOperationException($"Two EventIO servers are named '{twice.Key}'; each needs a name of its own.");
        }

        var group = new EventLoopGroup(options.LoopCount, new EventLoopOptions
        {
            Backend = options.Backend,
            SlowCallbackThreshold = options.SlowCallbackThreshold,
            Logger = _loggerFactory.CreateLogger("EventIO"),
        });
        try
        {
            foreach (ServerRegistration registration in registrations)
            {
                Start(registration, group);
            }

            _metrics.Observe(group);
            if (_services.GetService<WorkerPool>() is { } pool)
            {
                _metrics.Observe(pool, "workers");
            }
        }
        catch
        {
            group.Dispose(); // closes the servers already registered
            _listeners.Clear();
            _servers.Clear();
            throw;
        }

        _group = group;
        group.Start();
        _exited = Task.Factory.StartNew(WatchLoops, group, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        foreach (EventIOListener listener in _listeners)
        {
            HostingLog.Listening(_logger, listener.Name, listener.Protocol, listener.EndPoint);
        }

        HostingLog.Started(_logger, group.Count);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops gracefully: queued pool work is cancelled, UDP servers close, TCP servers stop accepting and drain
    /// their connections; when <paramref name="cancellationToken"/> fires (the host's shutdown timeout) whatever
    /// is left is closed at once. Returns once every loop thread has ended.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        EventLoopGroup? group = _group;
        if (group is null || _stopping)
        {
            return;
        }

        _stopping = true;
        _services.GetService<WorkerPool>()?.Shutdown(TimeSpan.Zero); // queued work's callbacks reach their loops before the close below
        TcpServer[] tcp = [.. _servers.Values.SelectMany(s => s).OfType<TcpServer>()];
        int open = tcp.Sum(s => s.ConnectionCount);
        HostingLog.Stopping(_logger, open);
        _draining = group.Count + tcp.Length;
        foreach (EventLoop loop in group.Loops)
        {
            loop.Post(static s =>
            {
                (EventIOHostedService service, EventLoop on) = ((EventIOHostedService, EventLoop))s!;
                service.CloseServersOn(on);
            }, (this, loop));
        }

        try
        {
            await _drained.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            int left = tcp.Sum(s => s.ConnectionCount);
            HostingLog.StopTimedOut(_logger, left);
        }

        group.Stop();
        await Task.WhenAny(_exited, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)).ConfigureAwait(false); // a loop stuck in a callback cannot hold the host forever
        group.Dispose(); // closes what is left: connections still draining are closed at once
        HostingLog.Stopped(_logger);
    }

    /// <summary>Stops the loops if the host did not, and closes everything they hold.</summary>
    public void Dispose()
    {
        _stopping = true;
        _group?.Dispose();
    }

    private static string Describe(SocketException ex) => ex.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse => "address already in use",
        SocketError.AddressNotAvailable => "address not available on this machine",
        SocketError.AccessDenied => "permission denied",
        _ => ex.Message,
    };

    // One server per loop, all on the port the first one bound (port 0: the one the system picked).
    private void Start(ServerRegistration registration, EventLoopGroup group)
    {
        Func<IPEndPoint, LoopHandler> create;
        IPEndPoint endPoint;
        switch (registration)
        {
            case TcpServerRegistration tcp:
            {
                TcpServerHostOptions o = _services.GetRequiredService<IOptionsMonitor<TcpServerHostOptions>>().Get(tcp.Name);
                endPoint = new IPEndPoint(Parse(o.Address), o.Port);
                var shared = new TcpServerOptions
                {
                    Backlog = o.Backlog,
                    NoDelay = o.NoDelay,
                    ReusePort = group.Count > 1,
                    ConnectionLimit = o.MaxConnections > 0 ? new ConnectionLimit(o.MaxConnections) : null, // one cap over every loop
                    AddressLimit = o.MaxConnectionsPerAddress > 0 ? new AddressConnectionLimit(o.MaxConnectionsPerAddress) : null, // likewise
                    IdleTimeout = o.IdleTimeout ?? Timeout.InfiniteTimeSpan,
                };
                Func<SafeSocketHandle, TcpConnection> factory = socket => tcp.CreateConnection(_services, socket);
                create = at => new TcpServer(at, factory, shared);
                break;
            }

            case UdpServerRegistration udp:
            {
                UdpServerHostOptions o = _services.GetRequiredService<IOptionsMonitor<UdpServerHostOptions>>().Get(udp.Name);
                endPoint = new IPEndPoint(Parse(o.Address), o.Port);
                var shared = new UdpServerOptions
                {
                    BatchSize = o.BatchSize,
                    ReceiveBudget = o.ReceiveBudget,
                    ReceiveBufferSize = o.ReceiveBufferSize,
                    ReusePort = group.Count > 1,
                    RateLimit = o.RateLimit,
                    RateLimitBurst = o.RateLimitBurst,
                };
                create = at => udp.CreateServer(_services, at, shared);
                break;
            }

            default:
                throw new InvalidOperationException($"Unknown server registration {registration.GetType().Name}.");
        }

        var servers = new LoopHandler[group.Count];
        for (int i = 0; i < servers.Length; i++)
        {
            LoopHandler server = Bind(registration, create, endPoint);
            try
            {
                group[i].Add(server);
            }
            catch
            {
                server.Dispose(); // bound but not registered: the loop would not close it
                throw;
            }

            servers[i] = server;
            endPoint = server switch
            {
                TcpServer t => t.LocalEndPoint,
                UdpServer u => u.LocalEndPoint,
                _ => endPoint,
            };
            if (server is TcpServer tcpServer)
            {
                _metrics.Observe(tcpServer, registration.Name);
            }
            else if (server is UdpServer udpServer)
            {
                _metrics.Observe(udpServer, registration.Name);
            }
        }

        _servers.Add(registration.Name, servers);
        _listeners.Add(new EventIOListener(registration.Name, registration.Protocol, endPoint));
    }

    private static LoopHandler Bind(ServerRegistration registration, Func<IPEndPoint, LoopHandler> create, IPEndPoint endPoint)
    {
        try
        {
            return create(endPoint);
        }
        catch (Exception ex) when ((ex as SocketException ?? (ex as TargetInvocationException)?.InnerException) is SocketException socketError)
        {
            throw new InvalidOperationException($"EventIO: cannot listen on {registration.Name} {registration.Protocol} {endPoint}: {Describe(socketError)}", socketError);
        }
    }

    private static IPAddress Parse(string address)
        => HostAddress.TryParse(address, out IPAddress? parsed) ? parsed : throw new InvalidOperationException($"Not an address: '{address}'."); // validated at start already

    // On each loop: close its UDP servers, drain its TCP servers. When every loop has done so and every TCP
    // server has drained, the loops stop.
    private void CloseServersOn(EventLoop loop)
    {
        foreach (LoopHandler server in _servers.Values.SelectMany(s => s).Where(s => ReferenceEquals(s.Loop, loop)))
        {
            if (server is TcpServer tcp)
            {
                tcp.Shutdown(OnDrained);
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
            _group?.Stop();
            _drained.TrySetResult();
        }
    }

    private void WatchLoops(object? state)
    {
        try
        {
            ((EventLoopGroup)state!).WaitForExit(Timeout.InfiniteTimeSpan);
        }
        catch (AggregateException ex)
        {
            HostingLog.LoopFailed(_logger, ex.InnerException ?? ex);
            if (!_stopping)
            {
                _services.GetService<IHostApplicationLifetime>()?.StopApplication();
            }
        }
    }
}
