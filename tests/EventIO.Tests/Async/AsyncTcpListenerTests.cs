using System.Net.Sockets;
using EventIO.Async;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Servers;

namespace EventIO.Tests.Async;

/// <summary><see cref="AsyncTcpListener"/>: await foreach over accepted connections, AcceptAsync, ending, bounds.</summary>
public sealed class AsyncTcpListenerTests
{
    [Fact]
    public async Task AwaitForeach_YieldsEachClient_AndEndsWhenTheListenerIsDisposed()
    {
        using var loopThread = new LoopThread();
        AsyncTcpListener listener = loopThread.Invoke(() => new AsyncTcpListener(loopThread.Loop, Loopback.AnyPort));
        var accepted = new List<string?>();

        Task serving = loopThread.Loop.InvokeAsync(async () =>
        {
            await foreach (AsyncTcpConnection connection in listener)
            {
                accepted.Add(Thread.CurrentThread.Name);
                _ = EchoOnceAsync(connection);
            }
        });

        for (int i = 0; i < 3; i++)
        {
            using Socket client = Loopback.TcpConnect(listener.LocalEndPoint);
            client.Send([(byte)i]);
            Assert.Equal([(byte)i], Loopback.ReceiveExactly(client, 1));
        }

        await loopThread.Loop.InvokeAsync(listener.Dispose).DefaultTimeout();
        await serving.DefaultTimeout(); // the enumeration ended quietly
        Assert.Equal(["loop-0", "loop-0", "loop-0"], accepted);
        Assert.False(loopThread.Invoke(() => listener.Server.IsListening));
    }

    [Fact]
    public async Task AcceptAsync_HonoursItsToken_AndAnotherAcceptMayFollow()
    {
        using var loopThread = new LoopThread();
        AsyncTcpListener listener = loopThread.Invoke(() => new AsyncTcpListener(loopThread.Loop, Loopback.AnyPort));
        using var cts = new CancellationTokenSource();

        Task<AsyncTcpConnection> cancelled = loopThread.Invoke(() => listener.AcceptAsync(cts.Token).AsTask());
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.DefaultTimeout());

        Task<AsyncTcpConnection> next = loopThread.Invoke(() => listener.AcceptAsync().AsTask());
        using Socket client = Loopback.TcpConnect(listener.LocalEndPoint);
        AsyncTcpConnection connection = await next.DefaultTimeout();
        Assert.False(loopThread.Invoke(() => connection.IsClosed));
        loopThread.Invoke(listener.Dispose);
    }

    [Fact]
    public async Task DisposingTheLoop_CancelsAPendingAccept()
    {
        var loop = new EventLoop();
        var listener = new AsyncTcpListener(loop, Loopback.AnyPort);
        Task<AsyncTcpConnection> accept = listener.AcceptAsync().AsTask();

        loop.Dispose();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => accept.DefaultTimeout());
    }

    [Fact]
    public async Task AFullAcceptQueue_LeavesClientsInTheBacklog_UntilTheApplicationCatchesUp()
    {
        using var loopThread = new LoopThread();
        AsyncTcpListener listener = loopThread.Invoke(() => new AsyncTcpListener(loopThread.Loop, Loopback.AnyPort, acceptQueueCapacity: 2));
        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < 5; i++)
            {
                clients.Add(Loopback.TcpConnect(listener.LocalEndPoint)); // the kernel completes the handshake
            }

            Eventually.True(() => loopThread.Invoke(() => listener.QueuedCount) == 2);
            await Task.Delay(TestTimeouts.NothingHappens); // a window in which nothing may happen: no third accept
            Assert.Equal(2, loopThread.Invoke(() => listener.QueuedCount));
            Assert.Equal(2, listener.Server.ConnectionCount); // the other three wait in the backlog

            var accepted = new List<AsyncTcpConnection>();
            for (int i = 0; i < 5; i++)
            {
                accepted.Add(await loopThread.Invoke(() => listener.AcceptAsync().AsTask()).DefaultTimeout());
            }

            Assert.Equal(5, accepted.Distinct().Count());
            loopThread.Invoke(() => accepted.ForEach(c => c.Close()));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
            loopThread.Invoke(listener.Dispose);
        }
    }

    [Fact]
    public void MadeOnAnotherThread_OrWithChildLoops_IsRefused()
    {
        using var loopThread = new LoopThread(loops: 2);

        Assert.Throws<InvalidOperationException>(() => new AsyncTcpListener(loopThread.Loop, Loopback.AnyPort));
        Assert.Throws<ArgumentException>(() => loopThread.Invoke(() => new AsyncTcpListener(loopThread.Loop, Loopback.AnyPort, new EventIO.Net.TcpServerOptions { ChildLoops = loopThread.Loops })));
    }

    private static async Task EchoOnceAsync(AsyncTcpConnection connection)
    {
        byte[] buffer = new byte[16];
        int n = await connection.ReceiveAsync(buffer);
        await connection.SendAsync(buffer.AsMemory(0, n));
        connection.CloseWhenFlushed();
    }
}
