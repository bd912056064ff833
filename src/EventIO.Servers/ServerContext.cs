using System.Runtime.Versioning;
using EventIO.Net;
using EventIO.Work;

namespace EventIO.Servers;

/// <summary>
/// What a <see cref="ServerDefinition.Create"/> factory may use: the host's options, the options its
/// building blocks should take (shared limits, port sharing between loops), and the shared worker pool.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class ServerContext
{
    private readonly Lazy<WorkerPool> _pool;

    internal ServerContext(RecipeHostOptions options, IReadOnlyList<EventLoop> loops)
    {
        Options = options;
        _pool = new Lazy<WorkerPool>(() => new WorkerPool(options.Workers, options.WorkQueueCapacity, options.WorkerPriority), LazyThreadSafetyMode.None);
        bool shared = loops.Count > 1;
        TcpOptions = new TcpServerOptions
        {
            IdleTimeout = options.IdleTimeout,
            ConnectionLimit = options.MaxConnections > 0 ? new ConnectionLimit(options.MaxConnections) : null, // one cap for the process
            AddressLimit = options.MaxConnectionsPerAddress > 0 ? new AddressConnectionLimit(options.MaxConnectionsPerAddress) : null, // likewise
            ReusePort = shared && options.AcceptMode == TcpAcceptMode.ReusePort,
            ChildLoops = shared && options.AcceptMode == TcpAcceptMode.SingleAcceptor ? loops : null,
        };
        UdpOptions = new UdpServerOptions { ReusePort = shared, BatchSize = options.UdpBatchSize, RateLimit = options.UdpRateLimit };
    }

    /// <summary>The host's options.</summary>
    public RecipeHostOptions Options { get; }

    /// <summary>Options for a TCP server: the host's limits, and how it shares its port with the other loops.</summary>
    public TcpServerOptions TcpOptions { get; }

    /// <summary>Options for a UDP server: the batch size, and port sharing with the other loops.</summary>
    public UdpServerOptions UdpOptions { get; }

    /// <summary>The worker pool shared by the host's servers (on every loop), started the first time a server asks for it.</summary>
    public WorkerPool Pool => _pool.Value;

    /// <summary>The pool if a server asked for it, else null.</summary>
    internal WorkerPool? PoolIfStarted => _pool.IsValueCreated ? _pool.Value : null;
}
