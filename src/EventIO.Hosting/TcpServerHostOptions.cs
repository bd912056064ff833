namespace EventIO.Hosting;

/// <summary>
/// One TCP server of <c>AddTcpServer</c>: bound from the section
/// <c>EventIO:Servers:NAME</c> over what code sets, validated when the host starts.
/// </summary>
public sealed class TcpServerHostOptions
{
    /// <summary>The address to listen on, as text so that configuration binds it: an IPv4 or IPv6 address, <c>localhost</c>, or <c>*</c> for every IPv4 address (127.0.0.1).</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>The port; 0 picks a free one (see <see cref="EventIOHostedService.Listeners"/>).</summary>
    public int Port { get; set; }

    /// <summary>The listen backlog (512).</summary>
    public int Backlog { get; set; } = 512;

    /// <summary>The most connections open at once over every loop; 0: no limit. A client beyond it is accepted and closed at once.</summary>
    public int MaxConnections { get; set; }

    /// <summary>
    /// The most connections open at once from one IP address, over every loop; 0: no limit. A client beyond
    /// it is accepted and closed at once. Off on loopback by default; set it for a public address.
    /// </summary>
    public int MaxConnectionsPerAddress { get; set; }

    /// <summary>Close a connection whose peer sends nothing for this long; null: never.</summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>Set TCP_NODELAY on accepted connections (true).</summary>
    public bool NoDelay { get; set; } = true;
}
