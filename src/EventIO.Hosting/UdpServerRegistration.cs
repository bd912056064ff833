using System.Net;
using EventIO.Net;

namespace EventIO.Hosting;

/// <summary>A UDP server added to the host, with the factory that makes one per loop (through DI).</summary>
internal sealed record UdpServerRegistration(string Name, Func<IServiceProvider, IPEndPoint, UdpServerOptions, UdpServer> CreateServer) : ServerRegistration(Name)
{
    internal override string Protocol => "udp";
}
