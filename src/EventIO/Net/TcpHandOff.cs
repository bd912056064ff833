using System.Net.Sockets;

namespace EventIO.Net;

/// <summary>An accepted connection on its way from the acceptor's loop to the loop that will own it.</summary>
internal sealed class TcpHandOff(TcpServer server, ConnectionShard shard, SafeSocketHandle socket, UInt128? address)
{
    internal static readonly Action<object?> Deliver = static s =>
    {
        var handOff = (TcpHandOff)s!;
        handOff.Server.SetUp(handOff.Socket, handOff.Shard, handOff.Address);
    };

    internal TcpServer Server { get; } = server;

    internal ConnectionShard Shard { get; } = shard;

    internal SafeSocketHandle Socket { get; } = socket;

    /// <summary>The peer address counted against the per-address cap, if any.</summary>
    internal UInt128? Address { get; } = address;
}
