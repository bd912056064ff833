using System.Net;
using EventIO.Polling;

namespace EventIO.Servers;

/// <summary>What <see cref="RecipeHost"/> starts and where; the defaults are the recipe's.</summary>
public sealed class RecipeHostOptions
{
    /// <summary>The address every server binds (127.0.0.1).</summary>
    public IPAddress Host { get; init; } = IPAddress.Loopback;

    /// <summary>UDP time server port (14000; 0 picks a free port).</summary>
    public int TimePort { get; init; } = 14000;

    /// <summary>UDP echo server port (15000).</summary>
    public int EchoPort { get; init; } = 15000;

    /// <summary>TCP echo server port (16000).</summary>
    public int TcpEchoPort { get; init; } = 16000;

    /// <summary>UDP Fibonacci server port (16000: TCP and UDP ports are separate spaces).</summary>
    public int FibPort { get; init; } = 16000;

    /// <summary>Which servers to start (all four).</summary>
    public ServerKinds Servers { get; init; } = ServerKinds.All;

    /// <summary>Worker threads for the Fibonacci server (16, as the recipe).</summary>
    public int Workers { get; init; } = 16;

    /// <summary>How the Fibonacci workers compete with the loop for the CPU (<see cref="Work.WorkerPriority.Idle"/>).</summary>
    public Work.WorkerPriority WorkerPriority { get; init; } = Work.WorkerPriority.Idle;

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

    /// <summary>Log handlers and callbacks that hold the loop longer than this (100 ms).</summary>
    public TimeSpan SlowCallbackThreshold { get; init; } = TimeSpan.FromMilliseconds(100);

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Host, nameof(Host));
        foreach ((string name, int port) in new[] { ("time port", TimePort), ("echo port", EchoPort), ("tcp echo port", TcpEchoPort), ("fib port", FibPort) })
        {
            if (port is < 0 or > 65535)
            {
                throw new ArgumentOutOfRangeException(nameof(RecipeHostOptions), port, $"The {name} must be between 0 and 65535.");
            }
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(Workers, 1, nameof(Workers));
        ArgumentOutOfRangeException.ThrowIfLessThan(WorkQueueCapacity, 1, nameof(WorkQueueCapacity));
        ArgumentOutOfRangeException.ThrowIfNegative(FibMax, nameof(FibMax));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(FibMax, Fibonacci.MaxComputable, nameof(FibMax));
        ArgumentOutOfRangeException.ThrowIfLessThan(ShutdownTimeout, TimeSpan.Zero, nameof(ShutdownTimeout));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxConnections, nameof(MaxConnections));
    }
}
