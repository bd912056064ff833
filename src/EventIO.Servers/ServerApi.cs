namespace EventIO.Servers;

/// <summary>How the recipe's TCP echo and Fibonacci servers are written (<c>eventio serve --api</c>).</summary>
public enum ServerApi
{
    /// <summary>Handlers and callbacks: <see cref="TcpEchoConnection"/>, <see cref="UdpFibonacciServer"/>.</summary>
    Handlers = 0,

    /// <summary>async/await on the loop: <see cref="AsyncTcpEcho"/>, <see cref="AsyncUdpFibonacciServer"/>.</summary>
    Async,
}
