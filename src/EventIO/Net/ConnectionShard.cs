using System.Collections.ObjectModel;

namespace EventIO.Net;

/// <summary>The connections of one <see cref="TcpServer"/> that live on one loop; touched by that loop's thread only.</summary>
internal sealed class ConnectionShard
{
    private readonly HashSet<TcpConnection> _connections = new(ReferenceEqualityComparer.Instance);

    internal ConnectionShard(EventLoop loop, int index)
    {
        Loop = loop;
        Index = index;
        View = new ReadOnlySet<TcpConnection>(_connections);
    }

    /// <summary>The loop whose thread owns these connections.</summary>
    internal EventLoop Loop { get; }

    /// <summary>Its place in the server's shard table.</summary>
    internal int Index { get; }

    /// <summary>A read-only view of the set.</summary>
    internal IReadOnlySet<TcpConnection> View { get; }

    internal void Add(TcpConnection connection) => _connections.Add(connection);

    internal void Remove(TcpConnection connection) => _connections.Remove(connection);

    /// <summary>A copy, for closing every connection while the set changes.</summary>
    internal TcpConnection[] Snapshot() => [.. _connections];
}
