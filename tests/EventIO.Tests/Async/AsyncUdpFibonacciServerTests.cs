using EventIO.Net;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;
using EventIO.Work;

namespace EventIO.Tests.Servers;

/// <summary>The Fibonacci server tests on the server written with await (<see cref="AsyncUdpFibonacciServer"/>, <c>serve --api async</c>).</summary>
public sealed class AsyncUdpFibonacciServerTests : UdpFibonacciServerTests
{
    /// <inheritdoc/>
    protected override UdpServer CreateServer(WorkerPool pool, int maxN = UdpFibonacciServer.DefaultMaxN, UdpServerOptions? options = null)
        => new AsyncUdpFibonacciServer(Loopback.AnyPort, pool, maxN, options);
}
