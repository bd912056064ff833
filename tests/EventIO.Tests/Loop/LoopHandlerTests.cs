using System.Net.Sockets;
using EventIO.Net;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Loop;

/// <summary>A <see cref="LoopHandler"/> meets its loop in one place (<see cref="EventLoop.Add"/>) and closes once, in order.</summary>
public sealed class LoopHandlerTests
{
    [Fact]
    public void Loop_BeforeAdd_ExplainsItself_AfterAdd_IsThatLoop()
    {
        using var loop = new EventLoop();
        using var server = new UdpEchoServer(Loopback.AnyPort);

        Assert.False(server.IsAttached);
        var error = Assert.Throws<InvalidOperationException>(() => server.Loop);
        Assert.Contains("has not been added to a loop", error.Message, StringComparison.Ordinal);

        loop.Add(server);
        Assert.Same(loop, server.Loop);
        Assert.True(server.IsAttached);
    }

    [Fact]
    public void AHandler_BelongsToOneLoop_AddingItToAnother_IsRefusedAndRegistersNothing()
    {
        using var loopA = new EventLoop();
        using var loopB = new EventLoop();
        using var server = new UdpEchoServer(Loopback.AnyPort);
        loopA.Add(server);
        loopA.Remove(server);

        var error = Assert.Throws<InvalidOperationException>(() => loopB.Add(server));

        Assert.Contains("belongs to another loop", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, loopB.HandlerCount);
        loopA.Add(server); // back to its own loop is fine
        Assert.Equal(1, loopA.HandlerCount);
    }

    [Fact]
    public void Close_LeavesTheLoopBeforeTheSocketCloses_ThenReportsOnClosedAfterTheCallback()
    {
        using var loop = new EventLoop();
        using var pair = SocketPair.Create();
        var order = new List<string>();
        var handler = new OrderedHandler(pair.Local, order, loop);
        loop.Add(handler);

        loop.Post(() =>
        {
            handler.Close();
            order.Add("callback returned");
        });
        loop.RunOnce(TimeSpan.Zero);
        loop.RunOnce(TimeSpan.Zero); // closed in a posted action: reported in the next posted phase

        Assert.Equal(["closing (registered: True)", "release (registered: False)", "callback returned", "closed"], order);
        Assert.True(pair.Local.SafeHandle.IsClosed);
        Assert.Throws<ObjectDisposedException>(() => loop.Add(handler));
    }

    [Fact]
    public void AThrowingOnAdded_ClosesTheHandler_AndTheLoopCarriesOn()
    {
        using var loop = new EventLoop(new EventLoopOptions { Logger = new CollectingLogger() });
        using var pair = SocketPair.Create();
        var handler = new ThrowingOnAdd(pair.Local);

        loop.Add(handler);

        Assert.True(handler.IsClosed);
        Assert.Equal(0, loop.HandlerCount);
    }

    private sealed class OrderedHandler(Socket socket, List<string> order, EventLoop loop) : LoopHandler
    {
        public override System.Runtime.InteropServices.SafeHandle Handle => socket.SafeHandle;

        public override bool WantsToReceive => false;

        public override bool WantsToSend => false;

        public override void HandleReceive()
        {
        }

        public override void HandleSend()
        {
        }

        protected override void OnClosing() => order.Add($"closing (registered: {loop.HandlerCount == 1})");

        protected override void ReleaseHandle()
        {
            order.Add($"release (registered: {loop.HandlerCount == 1})");
            socket.Dispose();
        }

        protected override void OnClosed() => order.Add("closed");
    }

    private sealed class ThrowingOnAdd(Socket socket) : TcpConnection(socket)
    {
        protected override void OnOpened() => throw new InvalidOperationException("refused at once");

        protected override void OnReceived(ReadOnlySpan<byte> data)
        {
        }
    }
}
