using System.Net.Sockets;
using EventIO.Net;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Servers;

/// <summary>
/// A connection factory that remembers every <see cref="TcpEchoConnection"/> it made (loop thread only),
/// optionally configuring each accepted socket first (for example, a small send buffer).
/// </summary>
internal sealed class ConnectionProbe(Action<Socket>? configure = null)
{
    private readonly List<TcpEchoConnection> _created = [];

    public Func<SafeSocketHandle, TcpConnection> Factory => handle =>
    {
        var socket = new Socket(handle); // as a user who wants socket options would
        configure?.Invoke(socket);
        var connection = new TcpEchoConnection(socket);
        lock (_created)
        {
            _created.Add(connection); // on the loop the connection goes to: with several loops, several threads
        }

        return connection;
    };

    /// <summary>Waits until the server has made its <paramref name="index"/>th connection (0-based) and returns it.</summary>
    public TcpEchoConnection WaitFor(LoopThread loopThread, int index = 0)
    {
        Eventually.True(() => Count(loopThread) > index, because: $"the server should accept connection #{index}");
        lock (_created)
        {
            return _created[index];
        }
    }

    public int Count(LoopThread loopThread)
    {
        loopThread.Invoke(() => { }); // whatever the acceptor handed over before now has been posted
        lock (_created)
        {
            return _created.Count;
        }
    }
}
