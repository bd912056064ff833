using System.Net;
using System.Net.Sockets;
using EventIO.Async;
using EventIO.Net;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Loop;
using EventIO.Tests.Servers;
using EventIO.Work;

namespace EventIO.Tests.Threading;

/// <summary>
/// No silent races: every loop-only member, called from a thread other than the running loop's, throws
/// <see cref="InvalidOperationException"/> with a message that says what to do, and leaves the loop, the
/// connection and the server as they were.
/// </summary>
public sealed class WrongThreadTests
{
    [Fact]
    public void EveryLoopOnlyMember_FromAnotherThread_Throws_AndNothingChanged()
    {
        using var loopThread = new LoopThread();
        EventLoop loop = loopThread.Loop;
        using var pool = new WorkerPool(workerCount: 1, queueCapacity: 4);
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread);
        UdpEchoServer udp = ServerTestSupport.StartUdpEcho(loopThread);
        using var pair = SocketPair.Create();
        var connection = new AsyncTcpConnection(pair.Local);
        loopThread.Invoke(() => loop.Add(connection));
        AsyncTcpListener listener = loopThread.Invoke(() => new AsyncTcpListener(loop, Loopback.AnyPort));
        using var extra = SocketPair.Create();
        using var handler = new RecordingHandler(extra.Local) { WantsToReceive = true };
        var remote = new SocketAddress(AddressFamily.InterNetwork);
        int handlers = loopThread.Invoke(() => loop.HandlerCount);
        int timers = loopThread.Invoke(() => loop.PendingTimers);

        var calls = new (string Name, Action Call)[]
        {
            ("EventLoop.Add", () => loop.Add(handler)),
            ("EventLoop.Remove", () => loop.Remove(server)),
            ("EventLoop.Update", () => loop.Update(server)),
            ("EventLoop.CallLater", () => loop.CallLater(TimeSpan.Zero, () => { })),
            ("EventLoop.CallAt", () => loop.CallAt(0, _ => { }, null)),
            ("EventLoop.CallEvery", () => loop.CallEvery(TimeSpan.FromSeconds(1), () => { })),
            ("EventLoop.ReceiveBuffer", () => _ = loop.ReceiveBuffer.Length),
            ("EventLoop.Delay", () => Begin(loop.Delay(TimeSpan.Zero))),
            ("EventLoop.RunOnce", () => loop.RunOnce(TimeSpan.Zero)),
            ("EventLoop.Dispose", loop.Dispose),
            ("TcpServer.StopListening", server.StopListening),
            ("TcpServer.Shutdown", () => server.Shutdown()),
            ("TcpServer.Connections", () => _ = server.Connections.Count),
            ("TcpConnection.Send", () => connection.Send([1])),
            ("TcpConnection.CloseWhenFlushed", connection.CloseWhenFlushed),
            ("LoopHandler.Close", connection.Close),
            ("UdpServer.SendTo", () => udp.SendTo([1], remote)),
            ("UdpServer.Close", udp.Close),
            ("AsyncTcpConnection.ReceiveAsync", () => Begin(connection.ReceiveAsync(new byte[1]))),
            ("AsyncTcpConnection.SendAsync", () => Begin(connection.SendAsync(new byte[1]))),
            ("AsyncTcpConnection.AsPipe", () => connection.AsPipe()),
            ("AsyncTcpListener.AcceptAsync", () => Begin(listener.AcceptAsync())),
            ("AsyncTcpListener..ctor", () => _ = new AsyncTcpListener(loop, Loopback.AnyPort)),
            ("WorkerPool.TryRun", () => pool.TryRun(() => 1, _ => { })),
            ("WorkerPool.RunAsync", () => Begin(pool.RunAsync(() => 1))),
        };

        foreach ((string name, Action call) in calls)
        {
            Exception? error = Record.Exception(call);
            var refused = Assert.IsType<InvalidOperationException>(error, exactMatch: false);
            Assert.True(refused.Message.Contains("loop", StringComparison.OrdinalIgnoreCase), $"{name}: \"{refused.Message}\" does not say what to do");
        }

        // Nothing moved: same handlers, timers, connections; the server still listens and echoes.
        Assert.Equal(handlers, loopThread.Invoke(() => loop.HandlerCount));
        Assert.Equal(timers, loopThread.Invoke(() => loop.PendingTimers));
        Assert.False(loopThread.Invoke(() => connection.IsClosed));
        Assert.True(loopThread.Invoke(() => server.IsListening && udp is { IsClosed: false } && listener.Server.IsListening));
        Assert.Equal(0, pair.Remote.Available);
        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);
        client.Send([42]);
        Assert.Equal([42], Loopback.ReceiveExactly(client, 1));
        loopThread.Invoke(listener.Dispose);
    }

    [Fact]
    public void OnTheLoopThread_TheSameMembersWork()
    {
        using var loopThread = new LoopThread();
        EventLoop loop = loopThread.Loop;
        TcpServer server = ServerTestSupport.StartTcpEcho(loopThread);

        Assert.Equal(64 * 1024, loopThread.Invoke(() => loop.ReceiveBuffer.Length));
        Assert.Equal(0, loopThread.Invoke(() => server.Connections.Count));
        loopThread.Invoke(() => server.Shutdown());
        Assert.False(loopThread.Invoke(() => server.IsListening));
    }

    [Fact]
    public void BeforeTheLoopRuns_TheThreadThatMadeIt_OwnsIt()
    {
        using var loop = new EventLoop();
        var server = new TcpServer(Loopback.AnyPort, TcpEchoConnection.Create);
        loop.Add(server);

        Assert.Empty(server.Connections);
        Assert.Equal(64 * 1024, loop.ReceiveBuffer.Length);
        Exception? fromElsewhere = null;
        var thread = new Thread(() => fromElsewhere = Record.Exception(() => _ = server.Connections.Count));
        thread.Start();
        Assert.True(thread.Join(TestTimeouts.Passing));
        Assert.IsType<InvalidOperationException>(fromElsewhere);
    }

    private static void Begin(Task task) => _ = task;

    private static void Begin(ValueTask task) => task.AsTask();

    private static void Begin<T>(ValueTask<T> task) => task.AsTask();
}
