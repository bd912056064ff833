namespace EventIO.Servers;

/// <summary>The recipe's servers, as flags so that a host can run any subset.</summary>
[Flags]
public enum ServerKinds
{
    /// <summary>No server.</summary>
    None = 0,

    /// <summary><c>udp-time</c>: <see cref="UdpTimeServer"/> (recipe port 14000).</summary>
    UdpTime = 1,

    /// <summary><c>udp-echo</c>: <see cref="UdpEchoServer"/> (recipe port 15000).</summary>
    UdpEcho = 2,

    /// <summary><c>tcp-echo</c>: <see cref="Net.TcpServer"/> with <see cref="TcpEchoConnection"/> (recipe port 16000).</summary>
    TcpEcho = 4,

    /// <summary><c>udp-fib</c>: <see cref="UdpFibonacciServer"/> on a <see cref="EventIO.Work.WorkerPool"/> (recipe port 16000, UDP).</summary>
    UdpFibonacci = 8,

    /// <summary>All four, as <c>eventio serve</c> starts them by default.</summary>
    All = UdpTime | UdpEcho | TcpEcho | UdpFibonacci,
}
