using System.Runtime.Versioning;
using EventIO.Net;
using EventIO.Work;

namespace EventIO.Servers;

/// <summary>What a <see cref="ServerDefinition.Create"/> factory may use: the host's options and the shared worker pool.</summary>
[SupportedOSPlatform("linux")]
public sealed class ServerContext
{
    private readonly Lazy<WorkerPool> _pool;

    internal ServerContext(RecipeHostOptions options)
    {
        Options = options;
        _pool = new Lazy<WorkerPool>(() => new WorkerPool(options.Workers, options.WorkQueueCapacity, options.WorkerPriority), LazyThreadSafetyMode.None);
        TcpOptions = new TcpServerOptions { IdleTimeout = options.IdleTimeout, MaxConnections = options.MaxConnections };
    }

    /// <summary>The host's options.</summary>
    public RecipeHostOptions Options { get; }

    /// <summary>TCP server options from the host's limits (idle timeout, max connections).</summary>
    public TcpServerOptions TcpOptions { get; }

    /// <summary>The worker pool shared by the host's servers, started the first time a server asks for it.</summary>
    public WorkerPool Pool => _pool.Value;

    /// <summary>The pool if a server asked for it, else null.</summary>
    internal WorkerPool? PoolIfStarted => _pool.IsValueCreated ? _pool.Value : null;
}
