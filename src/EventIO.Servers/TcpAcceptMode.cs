namespace EventIO.Servers;

/// <summary>How a host with several loops spreads TCP connections over them.</summary>
public enum TcpAcceptMode
{
    /// <summary>A listening socket per loop, bound with <c>SO_REUSEPORT</c>: the kernel spreads connections (the default).</summary>
    ReusePort,

    /// <summary>One listening socket on the first loop, handing each connection to the next loop in turn (no <c>SO_REUSEPORT</c> needed).</summary>
    SingleAcceptor,
}
