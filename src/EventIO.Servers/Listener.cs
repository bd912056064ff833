using System.Net;

namespace EventIO.Servers;

/// <summary>One listening socket of a <see cref="RecipeHost"/>: its name (<c>udp-time</c>, …) and the address really bound.</summary>
/// <param name="Name">The server's name: <c>udp-time</c>, <c>udp-echo</c>, <c>tcp-echo</c> or <c>udp-fib</c>.</param>
/// <param name="EndPoint">The bound address, with the real port when 0 was asked for.</param>
public sealed record Listener(string Name, IPEndPoint EndPoint)
{
    /// <summary><c>listening NAME ADDRESS:PORT</c>, the line <c>eventio serve</c> prints.</summary>
    public override string ToString() => $"listening {Name} {EndPoint}";
}
