using System.Net.Sockets;
using EventIO.Net;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Loop;

namespace EventIO.Tests.Net;

/// <summary>
/// <see cref="TcpConnection"/> as a state machine: each legal transition, driven on real loopback sockets
/// with the loop run on the test thread (so every step is observed between turns).
/// </summary>
public sealed class TcpConnectionStateTests : IDisposable
{
    private readonly EventLoop _loop = new();
    private readonly SocketPair _pair = SocketPair.Create();

    public void Dispose()
    {
        _loop.Dispose();
        _pair.Dispose();
    }

    [Fact]
    public void Open_ToReadPaused_AtTheHighWatermark_AndBack_AtTheLowOne_WithWritabilityReported()
    {
        var options = new TcpConnectionOptions { HighWatermark = 256 * 1024, LowWatermark = 64 * 1024, MaxQueuedBytes = 8 * 1024 * 1024 };
        _pair.Remote.ReceiveBufferSize = 16 * 1024;
        _pair.Local.SendBufferSize = 4 * 1024;
        ProbeConnection c = Open(options);
        Assert.Equal(TcpConnectionState.Open, c.State);

        bool sentWhileWritable = c.Send(new byte[512 * 1024]); // far more than the kernel takes at once

        Assert.True(sentWhileWritable);
        Assert.Equal(TcpConnectionState.ReadPaused, c.State);
        Assert.False(c.IsWritable);
        Assert.Empty(c.Writability); // reported after the call that changed it, never inside Send
        _loop.RunOnce(TimeSpan.Zero);
        Assert.Equal([false], c.Writability);
        Assert.NotEqual(TcpConnectionState.Open, c.State); // not reading

        DrainRemote(512 * 1024);
        LoopDriver.RunUntil(_loop, () => c.IsWritable && c.Writability.Count == 2);
        Assert.Equal(TcpConnectionState.Open, c.State);
        Assert.Equal([false, true], c.Writability);
        Assert.Equal(TcpConnectionState.Open, c.State); // reading again
    }

    [Fact]
    public void Open_ToPeerClosed_AtEndOfStream_AndAHalfClosedConnectionStillSends()
    {
        ProbeConnection c = Open(keepHalfOpen: true);
        _pair.Remote.Send("last words"u8);
        _pair.Remote.Shutdown(SocketShutdown.Send);

        LoopDriver.RunUntil(_loop, () => c.State == TcpConnectionState.PeerClosed);
        Assert.Equal("last words", c.ReceivedText);

        Assert.True(c.Send("reply after your FIN"u8));
        _loop.RunOnce(TimeSpan.Zero); // on io_uring the send goes out with the turn's enter
        Assert.Equal("reply after your FIN"u8.ToArray(), Loopback.ReceiveExactly(_pair.Remote, 20));
        Assert.False(c.IsClosed);
    }

    [Fact]
    public void Open_ToDraining_ToLingering_ToClosed_AsTheQueueFlushesAndThePeerAnswersTheFin()
    {
        _pair.Remote.ReceiveBufferSize = 16 * 1024;
        _pair.Local.SendBufferSize = 4 * 1024;
        ProbeConnection c = Open();
        c.Send(new byte[256 * 1024]);

        c.CloseWhenFlushed();
        Assert.Equal(TcpConnectionState.Draining, c.State);
        Assert.True(c.IsClosing);
        Assert.False(c.Send("refused while closing"u8));

        DrainRemote(256 * 1024);
        LoopDriver.RunUntil(_loop, () => c.State == TcpConnectionState.Lingering);
        ServerTestSupportShim.AssertEndOfStream(_pair.Remote); // our FIN came after every byte
        _pair.Remote.Send("discarded"u8);
        _pair.Remote.Shutdown(SocketShutdown.Send);

        LoopDriver.RunUntil(_loop, () => c.State == TcpConnectionState.Closed);
        Assert.Equal(TcpCloseReason.Completed, c.CloseReason);
        Assert.Equal(string.Empty, c.ReceivedText); // nothing read after the close began
        _loop.RunOnce(TimeSpan.Zero);
        Assert.Equal(1, c.ClosedCalls);
    }

    [Fact]
    public void PeerClosed_ToDraining_ToClosed_WithoutLingering()
    {
        _pair.Remote.ReceiveBufferSize = 16 * 1024;
        _pair.Local.SendBufferSize = 4 * 1024;
        ProbeConnection c = Open(keepHalfOpen: true);
        _pair.Remote.Shutdown(SocketShutdown.Send);
        LoopDriver.RunUntil(_loop, () => c.State == TcpConnectionState.PeerClosed);
        c.Send(new byte[256 * 1024]);

        c.CloseWhenFlushed();
        Assert.Equal(TcpConnectionState.Draining, c.State);
        DrainRemote(256 * 1024);

        LoopDriver.RunUntil(_loop, () => c.IsClosed);
        Assert.Equal(TcpCloseReason.Completed, c.CloseReason);
        Assert.DoesNotContain(TcpConnectionState.Lingering, c.States);
    }

    [Fact]
    public void Draining_ToClosed_WhenThePeerNeverReads_AtTheDrainDeadline()
    {
        _pair.Remote.ReceiveBufferSize = 4 * 1024;
        _pair.Local.SendBufferSize = 4 * 1024;
        ProbeConnection c = Open();
        c.Send(new byte[1024 * 1024]);

        c.CloseWhenFlushed(TimeSpan.FromMilliseconds(100));
        Assert.Equal(TcpConnectionState.Draining, c.State);

        LoopDriver.RunUntil(_loop, () => c.IsClosed);
        Assert.Equal(TcpCloseReason.DrainTimeout, c.CloseReason);
        Assert.Equal(0, c.QueuedBytes);
    }

    [Fact]
    public void Lingering_ToClosed_AtTheLingerDeadline_WhenThePeerNeverSendsItsFin()
    {
        ProbeConnection c = Open(new TcpConnectionOptions { LingerTimeout = TimeSpan.FromMilliseconds(100) });

        c.CloseWhenFlushed();
        Assert.Equal(TcpConnectionState.Lingering, c.State); // nothing queued: FIN at once

        LoopDriver.RunUntil(_loop, () => c.IsClosed);
        Assert.Equal(TcpCloseReason.Completed, c.CloseReason);
    }

    [Fact]
    public void AnyState_ToClosed_OnAReset_WithTheSocketError()
    {
        ProbeConnection c = Open();
        _pair.ResetRemote();

        LoopDriver.RunUntil(_loop, () => c.IsClosed);
        Assert.Equal(TcpCloseReason.SocketError, c.CloseReason);
        Assert.Equal(SocketError.ConnectionReset, c.Error);
    }

    [Fact]
    public void Close_IsImmediate_ButOnClosedComesAfterTheCallingCallback()
    {
        ProbeConnection c = Open();
        c.Close();

        Assert.Equal(TcpConnectionState.Closed, c.State);
        Assert.Equal(TcpCloseReason.Local, c.CloseReason);
        Assert.Equal(0, c.ClosedCalls);
        Assert.Equal(0, _loop.HandlerCount);
        _loop.RunOnce(TimeSpan.Zero);
        Assert.Equal(1, c.ClosedCalls);
        c.Close();
        _loop.RunOnce(TimeSpan.Zero);
        Assert.Equal(1, c.ClosedCalls);
    }

    [Fact]
    public void SendPastTheCap_WithClosePolicy_ClosesAndCounts_TheReasonIsSendQueueFull()
    {
        _pair.Remote.ReceiveBufferSize = 4 * 1024;
        _pair.Local.SendBufferSize = 4 * 1024;
        ProbeConnection c = Open(new TcpConnectionOptions { HighWatermark = 64 * 1024, LowWatermark = 16 * 1024, MaxQueuedBytes = 256 * 1024 });

        int accepted = 0;
        while (c.Send(new byte[16 * 1024]))
        {
            accepted++;
        }

        Assert.InRange(accepted * 16 * 1024, 256 * 1024 - (16 * 1024), 256 * 1024 + (512 * 1024)); // the cap, plus what the kernel took
        Assert.True(c.IsClosed);
        Assert.Equal(TcpCloseReason.SendQueueFull, c.CloseReason);
    }

    [Fact]
    public void SendPastTheCap_WithRefusePolicy_RefusesTheWholeMessage_AndStaysOpen()
    {
        _pair.Remote.ReceiveBufferSize = 4 * 1024;
        _pair.Local.SendBufferSize = 4 * 1024;
        ProbeConnection c = Open(new TcpConnectionOptions
        {
            HighWatermark = 64 * 1024,
            LowWatermark = 16 * 1024,
            MaxQueuedBytes = 256 * 1024,
            SendOverflow = SendOverflowPolicy.Refuse,
        });
        while (c.QueuedBytes + (16 * 1024) <= 256 * 1024)
        {
            Assert.True(c.Send(new byte[16 * 1024]));
        }

        long queued = c.QueuedBytes;
        Assert.False(c.Send(new byte[16 * 1024]));

        Assert.Equal(queued, c.QueuedBytes); // none of it was queued
        Assert.False(c.IsClosed);
        Assert.True(c.Send(new byte[256 * 1024 - (int)queued])); // exactly up to the cap still fits
    }

    [Fact]
    public void Send_FromAnotherThread_Throws_BeforeChangingAnything()
    {
        ProbeConnection c = Open();

        Exception? error = OnAnotherThread(() => c.Send("x"u8));
        Exception? closeError = OnAnotherThread(c.Close);
        Exception? flushError = OnAnotherThread(c.CloseWhenFlushed);

        Assert.IsType<InvalidOperationException>(error);
        Assert.IsType<InvalidOperationException>(closeError);
        Assert.IsType<InvalidOperationException>(flushError);
        Assert.Equal(TcpConnectionState.Open, c.State);
        Assert.Equal(0, c.QueuedBytes);
        Assert.Equal(0, _pair.Remote.Available);
    }

    [Fact]
    public void Send_BeforeTheConnectionIsAdded_ExplainsWhy()
    {
        using var c = new ProbeConnection(_pair.Local, null, keepHalfOpen: false);

        var error = Assert.Throws<InvalidOperationException>(() => c.Send("x"u8));
        Assert.Contains("not been added to a loop", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OnOpened_RunsOnceRegistered_AndMaySend()
    {
        ProbeConnection c = Open(greeting: "hello\n");
        _loop.RunOnce(TimeSpan.Zero); // on io_uring the send goes out with the turn's enter

        Assert.Equal(1, c.OpenedCalls);
        Assert.Equal("hello\n"u8.ToArray(), Loopback.ReceiveExactly(_pair.Remote, 6));
    }

    // Runs the call on a thread of its own, waits for it, and returns what it threw.
    private static Exception? OnAnotherThread(Action call)
    {
        Exception? error = null;
        var thread = new Thread(() => error = Record.Exception(call));
        thread.Start();
        Assert.True(thread.Join(TestTimeouts.Passing));
        return error;
    }

    private static Exception? OnAnotherThread(Func<bool> call) => OnAnotherThread(() => { call(); });

    private ProbeConnection Open(TcpConnectionOptions? options = null, bool keepHalfOpen = false, string? greeting = null)
    {
        var c = new ProbeConnection(_pair.Local, options, keepHalfOpen) { Greeting = greeting };
        _loop.Add(c);
        return c;
    }

    private void DrainRemote(int count)
    {
        _pair.Remote.ReceiveTimeout = (int)TestTimeouts.Passing.TotalMilliseconds;
        var buffer = new byte[64 * 1024];
        int received = 0;
        while (received < count)
        {
            _loop.RunOnce(TimeSpan.Zero); // keep the connection flushing as the peer reads
            if (_pair.Remote.Poll(10_000, SelectMode.SelectRead))
            {
                int n = _pair.Remote.Receive(buffer);
                Assert.True(n > 0, "the connection ended before everything queued arrived");
                received += n;
            }
        }
    }

    private static class ServerTestSupportShim
    {
        public static void AssertEndOfStream(Socket socket)
        {
            socket.ReceiveTimeout = (int)TestTimeouts.Passing.TotalMilliseconds;
            Assert.Equal(0, socket.Receive(new byte[1]));
        }
    }

    private sealed class ProbeConnection(Socket socket, TcpConnectionOptions? options, bool keepHalfOpen) : TcpConnection(socket, options)
    {
        private readonly System.Text.StringBuilder _received = new();

        public string? Greeting { get; init; }

        public List<bool> Writability { get; } = [];

        public List<TcpConnectionState> States { get; } = [];

        public int OpenedCalls { get; private set; }

        public int ClosedCalls { get; private set; }

        public string ReceivedText => _received.ToString();

        protected override void OnOpened()
        {
            OpenedCalls++;
            if (Greeting is not null)
            {
                Send(System.Text.Encoding.ASCII.GetBytes(Greeting));
            }
        }

        protected override void OnReceived(ReadOnlySpan<byte> data)
        {
            States.Add(State);
            _received.Append(System.Text.Encoding.ASCII.GetString(data));
        }

        protected override void OnPeerClosed()
        {
            States.Add(State);
            if (!keepHalfOpen)
            {
                base.OnPeerClosed();
            }
        }

        protected override void OnWritabilityChanged() => Writability.Add(IsWritable);

        protected override void OnClosed() => ClosedCalls++;
    }
}
