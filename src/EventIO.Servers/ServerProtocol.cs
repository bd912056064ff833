namespace EventIO.Servers;

/// <summary>The transport a server of the recipe listens on.</summary>
public enum ServerProtocol
{
    /// <summary>UDP datagrams.</summary>
    Udp,

    /// <summary>A TCP listener with one connection handler per client.</summary>
    Tcp,
}
