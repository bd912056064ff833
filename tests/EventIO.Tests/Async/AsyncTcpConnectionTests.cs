using System.Net.Sockets;
using System.Text;
using EventIO.Async;
using EventIO.Net;
using EventIO.Tests.Hostile;
using EventIO.Tests.Infrastructure;
using EventIO.Tests.Loop;

namespace EventIO.Tests.Async;

/// <summary>
/// <see cref="AsyncTcpConnection"/> on a real loopback pair, with the loop run on the test thread so every
/// step is seen between turns: receives, sends, back-pressure both ways, half-close, errors, cancellation.
/// </summary>
public sealed class AsyncTcpConnectionTests : IDisposable
{
    private readonly EventLoop _loop = new();
    private readonly SocketPair _pair = SocketPair.Create();

    public void Dispose()
    {
        _loop.Dispose();
        _pair.Dispose();
    }

    [Fact]
    public void AReceive_WaitsForTheBytes_AndCompletesAfterTheTurnThatReadThem()
    {
        AsyncTcpConnection c = Open();
        byte[] buffer = new byte[64];

        Task<int> receive = c.ReceiveAsync(buffer).AsTask();
        _loop.RunOnce(TimeSpan.Zero);
        Assert.False(receive.IsCompleted);
        _pair.Remote.Send("hello"u8);
        LoopDriver.RunUntil(_loop, () => receive.IsCompleted);

        Assert.Equal(5, Done(receive));
        Assert.Equal("hello", Encoding.ASCII.GetString(buffer, 0, 5));
        Assert.Equal(0, c.BufferedBytes);
    }

    [Fact]
    public void BytesThatCameFirst_AreBuffered_AndTakenAtOnce_InPieces()
    {
        AsyncTcpConnection c = Open();
        _pair.Remote.Send("0123456789"u8);
        LoopDriver.RunUntil(_loop, () => c.BufferedBytes == 10);
        byte[] small = new byte[4];

        Assert.Equal(4, Done(c.ReceiveAsync(small)));
        Assert.Equal("0123", Encoding.ASCII.GetString(small));
        Assert.Equal(4, Done(c.ReceiveAsync(small)));
        Assert.Equal(2, Done(c.ReceiveAsync(small)));
        Assert.Equal("89", Encoding.ASCII.GetString(small, 0, 2));
        Assert.Equal(0, c.BufferedBytes);
    }

    [Fact]
    public void AZeroByteReceive_WaitsForData_WithoutTakingAny()
    {
        AsyncTcpConnection c = Open();

        Task<int> wait = c.ReceiveAsync(Memory<byte>.Empty).AsTask();
        _pair.Remote.Send("abc"u8);
        LoopDriver.RunUntil(_loop, () => wait.IsCompleted);

        Assert.Equal(0, Done(wait));
        Assert.Equal(3, c.BufferedBytes);
        Assert.Equal(3, Done(c.ReceiveAsync(new byte[8])));
    }

    [Fact]
    public void PastTheReceiveLimit_TheConnectionStopsReadingItsPeer_AndResumesWhenTheApplicationTakes()
    {
        AsyncTcpConnection c = Open(receiveBufferLimit: 8 * 1024);
        byte[] data = new byte[200 * 1024];
        _pair.Remote.Blocking = false;
        int sent = _pair.Remote.Send(data, 0, data.Length, SocketFlags.None, out _);
        Assert.True(sent > 64 * 1024, $"the kernel took only {sent} bytes");

        bool ring = _loop.Ring is not null;
        LoopDriver.RunUntil(_loop, () => c.BufferedBytes >= 8 * 1024);
        for (int i = 0; i < 3; i++)
        {
            _loop.RunOnce(LoopDriver.Short); // io_uring: the multishot receive's cancel reaches the kernel, its last buffers land
        }

        int buffered = c.BufferedBytes;
        Assert.False(c.WantsToReceive);
        // Readiness: at most one read (the loop's 64 KiB buffer) past the limit. io_uring: what the multishot
        // receive completed before its cancel reached the kernel, bounded by the bytes the kernel took.
        Assert.InRange(buffered, 8 * 1024, ring ? sent : (8 * 1024) + (64 * 1024));
        for (int i = 0; i < 3; i++)
        {
            _loop.RunOnce(LoopDriver.Short);
        }

        Assert.Equal(buffered, c.BufferedBytes); // paused: nothing more was read

        byte[] sink = new byte[buffered];
        Assert.Equal(buffered, Done(c.ReceiveAsync(sink)));
        Assert.True(ring || c.WantsToReceive);
        if (ring)
        {
            _pair.Remote.Send(data, 0, 1024, SocketFlags.None, out _); // the ring may have read all the kernel had
        }

        LoopDriver.RunUntil(_loop, () => c.BufferedBytes > 0);
    }

    [Fact]
    public void TheWholeStream_ArrivesInOrder_ThroughABoundedBuffer()
    {
        AsyncTcpConnection c = Open(receiveBufferLimit: 4096);
        byte[] data = Servers.ServerTestSupport.RandomBytes(1024 * 1024, 7);
        var writer = new Thread(() =>
        {
            _pair.Remote.Send(data);
            _pair.Remote.Shutdown(SocketShutdown.Send);
        });
        writer.Start();
        var received = new MemoryStream();
        byte[] buffer = new byte[1500];

        while (true)
        {
            Task<int> receive = c.ReceiveAsync(buffer).AsTask();
            LoopDriver.RunUntil(_loop, () => receive.IsCompleted);
            if (Done(receive) == 0)
            {
                break;
            }

            received.Write(buffer, 0, Done(receive));
        }

        Assert.True(writer.Join(TestTimeouts.Passing));
        Servers.ServerTestSupport.AssertSameBytes(data, received.ToArray());
    }

    [Fact]
    public void HalfClose_AReceiveReturnsZero_AndTheConnectionStillSends()
    {
        AsyncTcpConnection c = Open();
        _pair.Remote.Send("bye"u8);
        _pair.Remote.Shutdown(SocketShutdown.Send);
        byte[] buffer = new byte[16];

        Task<int> first = c.ReceiveAsync(buffer).AsTask();
        LoopDriver.RunUntil(_loop, () => first.IsCompleted);
        Assert.Equal(3, Done(first));
        Task<int> end = c.ReceiveAsync(buffer).AsTask();
        LoopDriver.RunUntil(_loop, () => end.IsCompleted);
        Assert.Equal(0, Done(end));
        Assert.Equal(0, Done(c.ReceiveAsync(buffer))); // and again

        Assert.True(Succeeded(c.SendAsync("after your FIN"u8.ToArray())));
        LoopDriver.RunUntil(_loop, () => _pair.Remote.Available >= 14); // io_uring: the send goes in with the next turn
        Assert.Equal("after your FIN"u8.ToArray(), Loopback.ReceiveExactly(_pair.Remote, 14));
        Assert.Equal(TcpConnectionState.PeerClosed, c.State);
        c.CloseWhenFlushed();
        LoopDriver.RunUntil(_loop, () => c.IsClosed);
        Assert.Equal(TcpCloseReason.Completed, c.CloseReason);
    }

    [Fact]
    public void APeerReset_FailsThePendingReceive_WithTheSocketError()
    {
        AsyncTcpConnection c = Open();
        Task<int> receive = c.ReceiveAsync(new byte[16]).AsTask();

        HostileSupport.Reset(_pair.Remote);
        LoopDriver.RunUntil(_loop, () => receive.IsCompleted);

        var error = Assert.IsType<SocketException>(Fault(receive));
        Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
        Assert.True(c.IsClosed);
        var next = Assert.IsType<SocketException>(Fault(c.ReceiveAsync(new byte[1]).AsTask()));
        Assert.Equal(SocketError.ConnectionReset, next.SocketErrorCode);
        var send = Assert.IsType<SocketException>(Fault(c.SendAsync(new byte[1]).AsTask()));
        Assert.Equal(SocketError.ConnectionReset, send.SocketErrorCode);
    }

    [Fact]
    public void ClosingLocally_CancelsThePendingReceiveAndSend()
    {
        AsyncTcpConnection c = Open(new TcpConnectionOptions { HighWatermark = 64 * 1024, LowWatermark = 16 * 1024 });
        _pair.Remote.ReceiveBufferSize = 16 * 1024;
        _pair.Local.SendBufferSize = 4 * 1024;
        Task<int> receive = c.ReceiveAsync(new byte[16]).AsTask();
        Task send = c.SendAsync(new byte[1024 * 1024]).AsTask(); // far past the high watermark: waits for the drain
        Assert.False(send.IsCompleted);

        c.Close();
        LoopDriver.RunUntil(_loop, () => receive.IsCompleted && send.IsCompleted);

        Assert.True(receive.IsCanceled);
        Assert.True(send.IsCanceled);
    }

    [Fact]
    public void ACancelledReceive_CompletesAsCancelled_AndLaterBytesGoToTheNextReceive()
    {
        AsyncTcpConnection c = Open();
        using var cts = new CancellationTokenSource();
        byte[] buffer = new byte[16];
        Task<int> receive = c.ReceiveAsync(buffer, cts.Token).AsTask();

        var canceller = new Thread(cts.Cancel);
        canceller.Start();
        Assert.True(canceller.Join(TestTimeouts.Passing));
        LoopDriver.RunUntil(_loop, () => receive.IsCompleted);
        Assert.True(receive.IsCanceled);

        _pair.Remote.Send("kept"u8);
        Task<int> next = c.ReceiveAsync(buffer).AsTask();
        LoopDriver.RunUntil(_loop, () => next.IsCompleted);
        Assert.Equal(4, Done(next));
        Assert.Equal("kept", Encoding.ASCII.GetString(buffer, 0, 4));
    }

    [Fact]
    public void ASendThatCrossesTheHighWatermark_CompletesOnlyOnceTheQueueDrainsToTheLowOne()
    {
        var options = new TcpConnectionOptions { HighWatermark = 256 * 1024, LowWatermark = 64 * 1024, MaxQueuedBytes = 8 * 1024 * 1024 };
        _pair.Remote.ReceiveBufferSize = 16 * 1024;
        _pair.Local.SendBufferSize = 4 * 1024;
        AsyncTcpConnection c = Open(options);

        Assert.True(Succeeded(c.SendAsync(new byte[1000]))); // under the watermark: done at once
        Task send = c.SendAsync(new byte[512 * 1024]).AsTask();
        Assert.False(send.IsCompleted);
        Assert.False(c.IsWritable);
        Assert.IsType<InvalidOperationException>(Record.Exception(() => Begin(c.SendAsync(new byte[1])))); // one send at a time

        var drained = new byte[64 * 1024];
        long got = 0;
        while (!send.IsCompleted)
        {
            _loop.RunOnce(TimeSpan.Zero);
            if (_pair.Remote.Poll(10_000, SelectMode.SelectRead))
            {
                got += _pair.Remote.Receive(drained);
            }

            Assert.True(got < 1000 + (512 * 1024), "everything arrived but the send never completed");
        }

        Assert.True(send.IsCompletedSuccessfully);
        Assert.True(c.QueuedBytes <= options.LowWatermark);
        Assert.True(c.IsWritable);
    }

    [Fact]
    public void ASendRefusedByTheCap_FailsWithNoBufferSpace_AndLeavesTheConnectionOpen()
    {
        var options = new TcpConnectionOptions { HighWatermark = 64 * 1024, LowWatermark = 16 * 1024, MaxQueuedBytes = 64 * 1024, SendOverflow = SendOverflowPolicy.Refuse };
        _pair.Remote.ReceiveBufferSize = 16 * 1024;
        _pair.Local.SendBufferSize = 4 * 1024;
        AsyncTcpConnection c = Open(options);

        Task send = c.SendAsync(new byte[10 * 1024 * 1024]).AsTask();

        var error = Assert.IsType<SocketException>(Fault(send));
        Assert.Equal(SocketError.NoBufferSpaceAvailable, error.SocketErrorCode);
        Assert.False(c.IsClosed);
    }

    [Fact]
    public void TwoReceivesAtOnce_AreRefused()
    {
        AsyncTcpConnection c = Open();
        Task<int> pending = c.ReceiveAsync(new byte[1]).AsTask();

        var error = Assert.IsType<InvalidOperationException>(Record.Exception(() => Begin(c.ReceiveAsync(new byte[1]))));
        Assert.False(pending.IsCompleted);
        Assert.Contains("already pending", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryMember_FromAnotherThread_Throws_BeforeChangingAnything()
    {
        AsyncTcpConnection c = Open();
        _pair.Remote.Send("x"u8);
        LoopDriver.RunUntil(_loop, () => c.BufferedBytes == 1);

        Exception? receive = OnAnotherThread(() => c.ReceiveAsync(new byte[1]).AsTask());
        Exception? send = OnAnotherThread(() => c.SendAsync(new byte[1]).AsTask());
        Exception? pipe = OnAnotherThread(() => _ = c.AsPipe());

        Assert.IsType<InvalidOperationException>(receive);
        Assert.IsType<InvalidOperationException>(send);
        Assert.IsType<InvalidOperationException>(pipe);
        Assert.Equal(1, c.BufferedBytes);
        Assert.Equal(0, _pair.Remote.Available);
    }

    [Fact]
    public void DisposingTheLoop_CancelsWhatIsPending()
    {
        AsyncTcpConnection c = Open(new TcpConnectionOptions { HighWatermark = 64 * 1024, LowWatermark = 16 * 1024 });
        _pair.Remote.ReceiveBufferSize = 16 * 1024;
        _pair.Local.SendBufferSize = 4 * 1024;
        Task<int> receive = c.ReceiveAsync(new byte[16]).AsTask();
        Task send = c.SendAsync(new byte[1024 * 1024]).AsTask();

        _loop.Dispose();

        Assert.True(receive.IsCanceled);
        Assert.True(send.IsCanceled);
    }

    // The result of an operation that must have completed by now.
    private static T Done<T>(Task<T> task)
    {
        Assert.True(task.IsCompleted, "the operation has not completed");
        return task.GetAwaiter().GetResult();
    }

    private static T Done<T>(ValueTask<T> task) => Done(task.AsTask());

    private static bool Succeeded(ValueTask task) => task.IsCompletedSuccessfully;

    // Starts an operation whose outcome the test does not need.
    private static void Begin(ValueTask task) => task.AsTask();

    private static void Begin<T>(ValueTask<T> task) => task.AsTask();

    // The exception of an operation that must have failed by now.
    private static Exception Fault(Task task)
    {
        Assert.True(task.IsFaulted, $"the operation is {task.Status}, not faulted");
        return task.Exception!.InnerException!;
    }

    private static Exception? OnAnotherThread(Func<object> call) => OnAnotherThread(() => { call(); });

    private static Exception? OnAnotherThread(Action call)
    {
        Exception? error = null;
        var thread = new Thread(() => error = Record.Exception(call));
        thread.Start();
        Assert.True(thread.Join(TestTimeouts.Passing));
        return error;
    }

    private AsyncTcpConnection Open(TcpConnectionOptions? options = null, int receiveBufferLimit = AsyncTcpConnection.DefaultReceiveBufferLimit)
    {
        var c = new AsyncTcpConnection(_pair.Local, options, receiveBufferLimit);
        _loop.Add(c);
        return c;
    }
}
