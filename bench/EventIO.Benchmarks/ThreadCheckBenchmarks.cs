using BenchmarkDotNet.Attributes;

namespace EventIO.Benchmarks;

/// <summary>
/// What the "loop thread only" check costs: <see cref="EventLoop.ThrowIfNotOnLoopThread"/> (one managed
/// thread-id read and one comparison), which <c>TcpConnection.Send</c>, <c>UdpServer.SendTo</c>,
/// <see cref="EventLoop.ReceiveBuffer"/> and the async API run on every call, against reading a plain
/// property of the loop. The benchmark thread owns the loop (it made it), so every check passes.
/// </summary>
[MemoryDiagnoser]
public class ThreadCheckBenchmarks
{
    private const int Calls = 1000;

    private EventLoop _loop = null!;

    [GlobalSetup]
    public void Setup() => _loop = new EventLoop();

    [GlobalCleanup]
    public void Cleanup() => _loop.Dispose();

    /// <summary>A plain read of <see cref="EventLoop.Now"/>: the loop's cost with no check.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Calls)]
    public long PropertyRead()
    {
        long sum = 0;
        for (int i = 0; i < Calls; i++)
        {
            sum += _loop.Now;
        }

        return sum;
    }

    /// <summary>The check alone.</summary>
    [Benchmark(OperationsPerInvoke = Calls)]
    public long ThreadCheck()
    {
        long sum = 0;
        for (int i = 0; i < Calls; i++)
        {
            _loop.ThrowIfNotOnLoopThread();
            sum += i;
        }

        return sum;
    }

    /// <summary><see cref="EventLoop.ReceiveBuffer"/>, which now checks: what a receive pays per readiness event.</summary>
    [Benchmark(OperationsPerInvoke = Calls)]
    public long CheckedReceiveBuffer()
    {
        long sum = 0;
        for (int i = 0; i < Calls; i++)
        {
            sum += _loop.ReceiveBuffer.Length;
        }

        return sum;
    }
}
