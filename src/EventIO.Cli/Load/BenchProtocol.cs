namespace EventIO.Cli.Load;

/// <summary>What <c>eventio bench</c> loads: a TCP or a UDP echo server.</summary>
internal enum BenchProtocol
{
    Tcp,
    Udp,
}
