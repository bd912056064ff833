using System.Net.Sockets;
using EventIO.Net;
using EventIO.Servers;

namespace EventIO.Tests.Servers;

/// <summary>The TCP echo server tests on the echo written with await (<see cref="AsyncTcpEcho"/>, <c>serve --api async</c>).</summary>
public sealed class AsyncTcpEchoServerTests : TcpEchoServerTests
{
    /// <inheritdoc/>
    protected override Func<SafeSocketHandle, TcpConnection>? Echo => AsyncTcpEcho.Factory;
}
