using EventIO.Net;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;
using EventIO.Work;
using Xunit.Abstractions;

namespace EventIO.Tests.Hostile;

/// <summary>The fuzz test on the Fibonacci server written with await (<see cref="AsyncUdpFibonacciServer"/>).</summary>
[Collection(HostileHeavyDefinition.Name)]
public sealed class AsyncFibonacciServerFuzzTests(ITestOutputHelper output) : FibonacciServerFuzzTests(output)
{
    /// <inheritdoc/>
    protected override UdpServer CreateServer(WorkerPool pool, int maxN, UdpServerOptions? options)
        => new AsyncUdpFibonacciServer(Loopback.AnyPort, pool, maxN, options);
}
