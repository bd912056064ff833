using System.Runtime.Versioning;
using EventIO.Net;

namespace EventIO.Servers;

/// <summary>The recipe's four servers, in start order: the table <c>eventio serve</c> is built from.</summary>
/// <remarks>
/// <b>Portability:</b> Linux only, as the servers its factories make. Reading the names and ports runs none of
/// them, on any OS (the <c>eventio</c> clients do, to find the recipe's ports).
/// </remarks>
[SupportedOSPlatform("linux")]
public static class RecipeServers
{
    /// <summary>UDP time :14000, UDP echo :15000, TCP echo :16000, UDP Fibonacci :16000 (the recipe's ports).</summary>
    public static IReadOnlyList<ServerDefinition> All { get; } =
    [
        new("udp-time", ServerProtocol.Udp, 14000, "time-port", "UDP time server", static (c, at) => new UdpTimeServer(at, c.UdpOptions)),
        new("udp-echo", ServerProtocol.Udp, 15000, "echo-port", "UDP echo server", static (c, at) => new UdpEchoServer(at, c.UdpOptions)),
        new("tcp-echo", ServerProtocol.Tcp, 16000, "tcp-echo-port", "TCP echo server", static (c, at) => new TcpServer(at, c.Options.Api == ServerApi.Async ? AsyncTcpEcho.Factory : TcpEchoConnection.Create, c.TcpOptions)),
        new("udp-fib", ServerProtocol.Udp, 16000, "fib-port", "UDP Fibonacci server", static (c, at) => c.Options.Api == ServerApi.Async
            ? new AsyncUdpFibonacciServer(at, c.Pool, c.Options.FibMax, c.UdpOptions)
            : new UdpFibonacciServer(at, c.Pool, c.Options.FibMax, c.UdpOptions)),
    ];

    /// <summary>The definition named <paramref name="name"/> (case-insensitive), or null.</summary>
    public static ServerDefinition? Find(string name)
        => All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));
}
