using System.Net;

namespace EventIO.Hosting;

/// <summary>A socket the hosted service is listening on: the server's name, <c>tcp</c> or <c>udp</c>, and the address really bound.</summary>
/// <param name="Name">The name the server was added with.</param>
/// <param name="Protocol"><c>tcp</c> or <c>udp</c>.</param>
/// <param name="EndPoint">The bound address, with the port the system picked when 0 was asked for.</param>
public sealed record EventIOListener(string Name, string Protocol, IPEndPoint EndPoint)
{
    /// <summary><c>listening NAME PROTOCOL ADDRESS:PORT</c>.</summary>
    public override string ToString() => $"listening {Name} {Protocol} {EndPoint}";
}
