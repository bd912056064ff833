using System.Net.Sockets;
using EventIO.Net;
using EventIO.Servers;
using Xunit.Abstractions;

namespace EventIO.Tests.Hostile;

/// <summary>The churn tests on the echo written with await (<see cref="AsyncTcpEcho"/>).</summary>
[Collection(HostileHeavyDefinition.Name)]
public sealed class AsyncTcpChurnTests(ITestOutputHelper output) : TcpChurnTests(output)
{
    /// <inheritdoc/>
    protected override Func<SafeSocketHandle, TcpConnection>? Echo => AsyncTcpEcho.Factory;
}
