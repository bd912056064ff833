using System.Net.Sockets;
using EventIO.Net;

namespace EventIO.Hosting;

/// <summary>A TCP server added to the host, with the factory that makes each connection (through DI).</summary>
internal sealed record TcpServerRegistration(string Name, Func<IServiceProvider, SafeSocketHandle, TcpConnection> CreateConnection) : ServerRegistration(Name)
{
    internal override string Protocol => "tcp";
}
