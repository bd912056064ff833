using System.Net.Sockets;
using EventIO.Net;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Hostile;

/// <summary>A connection factory that remembers every <see cref="TcpEchoConnection"/> it made (loop thread only).</summary>
internal sealed class ConnectionProbe
{
    private readonly List<TcpEchoConnection> _created = [];

    public Func<EventLoop, Socket, TcpConnection> Factory => (loop, socket) =>
    {
        var connection = new TcpEchoConnection(loop, socket);
        _created.Add(connection);
        return connection;
    };

    /// <summary>Waits until the server has made its <paramref name="index"/>th connection (0-based) and returns it.</summary>
    public TcpEchoConnection WaitFor(LoopThread loopThread, int index = 0)
    {
        Eventually.True(() => loopThread.Invoke(() => _created.Count > index), because: $"the server should accept connection #{index}");
        return loopThread.Invoke(() => _created[index]);
    }

    public int Count(LoopThread loopThread) => loopThread.Invoke(() => _created.Count);
}
