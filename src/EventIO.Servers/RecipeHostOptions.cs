using System.Net;
using System.Runtime.Versioning;
using EventIO.Diagnostics;
using EventIO.Polling;
using EventIO.Work;

namespace EventIO.Servers;

/// <summary>What <see cref="RecipeHost"/> starts and where; the defaults are the recipe's.</summary>
[SupportedOSPlatform("linux")]
public sealed class RecipeHostOptions
{
    /// <summary>The address every server binds (127.0.0.1).</summary>
    public IPAddress Host { get; init; } = IPAddress.Loopback;

    /// <summary>The servers to start, by name (see <see cref="RecipeServers.All"/>); null or empty: all of them.</summary>
    public IReadOnlyList<string>? Servers { get; init; }

    /// <summary>Ports by server name, overriding the recipe's (0 picks a free port).</summary>
    public IReadOnlyDictionary<string, int> Ports { get; init; } = new Dictionary<string, int>();

    /// <summary>Event loops, one thread each (1). With more than one, every server runs on every loop (see <see cref="AcceptMode"/>).</summary>
    public int Loops { get; init; } = 1;

    /// <summary>How TCP connections are spread over the loops (<see cref="TcpAcceptMode.ReusePort"/>).</summary>
    public TcpAcceptMode AcceptMode { get; init; } = TcpAcceptMode.ReusePort;

    /// <summary>Datagrams per <c>recvmmsg</c> and replies per <c>sendmmsg</c> for the UDP servers (32; 1: one at a time).</summary>
    public int UdpBatchSize { get; init; } = 32;

    /// <summary>How the TCP echo and Fibonacci servers are written: handlers (the default) or async/await.</summary>
    public ServerApi Api { get; init; } = ServerApi.Handlers;

    /// <summary>Worker threads for the Fibonacci server (16, as the recipe).</summary>
    public int Workers { get; init; } = 16;

    /// <summary>How the Fibonacci workers compete with the loop for the CPU (<see cref="Work.WorkerPriority.Adaptive"/>).</summary>
    public WorkerPriority WorkerPriority { get; init; } = WorkerPriority.Adaptive;

    /// <summary>Work items that may wait for a worker before requests get <c>error: busy</c> (1024).</summary>
    public int WorkQueueCapacity { get; init; } = 1024;

    /// <summary>The largest n the Fibonacci server computes (45).</summary>
    public int FibMax { get; init; } = UdpFibonacciServer.DefaultMaxN;

    /// <summary>The loop's readiness backend (epoll on Linux).</summary>
    public PollerBackend Backend { get; init; } = PollerBackend.Default;

    /// <summary>How long a graceful shutdown may take to flush connections before they are closed (5 s).</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Close TCP connections whose peer sends nothing for this long (off: <see cref="Timeout.InfiniteTimeSpan"/>).</summary>
    public TimeSpan IdleTimeout { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary>The most TCP connections open at once; 0 means no limit.</summary>
    public int MaxConnections { get; init; }

    /// <summary>The most TCP connections open at once from one IP address; 0 means no limit.</summary>
    public int MaxConnectionsPerAddress { get; init; }

    /// <summary>Datagrams each UDP server answers per second per source address (see <see cref="Net.UdpServerOptions.RateLimit"/>); 0 means no limit.</summary>
    public int UdpRateLimit { get; init; }

    /// <summary>Log handlers and callbacks that hold the loop longer than this (100 ms).</summary>
    public TimeSpan SlowCallbackThreshold { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Log a one-line summary of the <c>EventIO</c> meter this often (off: <see cref="Timeout.InfiniteTimeSpan"/>).</summary>
    public TimeSpan MetricsInterval { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary>Watches every loop turn by turn (<see cref="LoopTraceWriter"/>: <c>eventio serve --trace</c>); null: off.</summary>
    public LoopTracer? Tracer { get; init; }

    /// <summary>The port <paramref name="server"/> binds: its entry in <see cref="Ports"/>, else its default.</summary>
    public int PortOf(ServerDefinition server)
    {
        ArgumentNullException.ThrowIfNull(server);
        return Ports.TryGetValue(server.Name, out int port) ? port : server.DefaultPort;
    }

    /// <summary>The definitions of the servers to start, in the table's order.</summary>
    internal IReadOnlyList<ServerDefinition> SelectedServers()
        => Servers is not { Count: > 0 } names
            ? RecipeServers.All
            : [.. RecipeServers.All.Where(d => names.Contains(d.Name, StringComparer.OrdinalIgnoreCase))];

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Host, nameof(Host));
        ArgumentNullException.ThrowIfNull(Ports, nameof(Ports));
        foreach (string name in (Servers ?? []).Concat(Ports.Keys))
        {
            if (RecipeServers.Find(name) is null)
            {
                throw new ArgumentException($"Unknown server '{name}' (known: {string.Join(", ", RecipeServers.All.Select(d => d.Name))}).", nameof(Servers));
            }
        }

        foreach ((string name, int port) in Ports)
        {
            if (port is < 0 or > 65535)
            {
                throw new ArgumentOutOfRangeException(nameof(Ports), port, $"The port of {name} must be between 0 and 65535.");
            }
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(Loops, 1, nameof(Loops));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Loops, EventLoopGroup.MaxLoops, nameof(Loops));
        ArgumentOutOfRangeException.ThrowIfLessThan(UdpBatchSize, 1, nameof(UdpBatchSize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(UdpBatchSize, 64, nameof(UdpBatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(Workers, 1, nameof(Workers));
        if (!Enum.IsDefined(Api))
        {
            throw new ArgumentOutOfRangeException(nameof(Api), Api, "Unknown server API.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(WorkQueueCapacity, 1, nameof(WorkQueueCapacity));
        ArgumentOutOfRangeException.ThrowIfNegative(FibMax, nameof(FibMax));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(FibMax, Fibonacci.MaxComputable, nameof(FibMax));
        ArgumentOutOfRangeException.ThrowIfLessThan(ShutdownTimeout, TimeSpan.Zero, nameof(ShutdownTimeout));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxConnections, nameof(MaxConnections));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxConnectionsPerAddress, nameof(MaxConnectionsPerAddress));
        ArgumentOutOfRangeException.ThrowIfNegative(UdpRateLimit, nameof(UdpRateLimit));
        if (MetricsInterval != Timeout.InfiniteTimeSpan)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(MetricsInterval, TimeSpan.Zero, nameof(MetricsInterval));
        }
    }
}
