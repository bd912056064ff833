using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using EventIO.Async;
using EventIO.Net;
using EventIO.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EventIO.Tests.Performance;

/// <summary>
/// The awaitable path allocates nothing either: bytes allocated on the loop thread across 100,000 steady-state
/// round trips of an echo written with await (<see cref="AsyncTcpConnection.ReceiveAsync"/> /
/// <see cref="AsyncTcpConnection.SendAsync"/>), and of one written with System.IO.Pipelines over
/// <see cref="AsyncTcpConnection.AsPipe"/>. Read as <see cref="HotPathAllocationTests"/> reads them.
/// </summary>
/// <remarks>
/// The slow-callback warning is off here: on a loaded machine a preempted callback is logged, and building
/// that message allocates (once, outside the path measured).
/// </remarks>
public sealed class AsyncHotPathAllocationTests(ITestOutputHelper output)
{
    private const int Warmup = 5_000;
    private const int RoundTrips = 100_000;

    private static readonly EventLoopOptions s_options = new() { SlowCallbackThreshold = Timeout.InfiniteTimeSpan };

    [Fact]
    public void AsyncEchoRoundTrip_AllocatesNothingOnTheLoopThread()
    {
        using var loop = new LoopThread(s_options);
        TcpServer server = Start(loop, AsyncTcpConnection.Factory(EchoAsync));
        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);

        long allocated = Measure(loop, client);

        output.WriteLine($"{allocated} bytes over {RoundTrips} round trips");
        Assert.True(allocated == 0, $"{allocated} bytes allocated on the loop thread over {RoundTrips} async echo round trips");
    }

    [Fact]
    public void PipeEchoRoundTrip_AllocatesNothingOnTheLoopThread()
    {
        using var loop = new LoopThread(s_options);
        TcpServer server = Start(loop, AsyncTcpConnection.Factory(PipeEchoAsync));
        using Socket client = Loopback.TcpConnect(server.LocalEndPoint);

        long allocated = Measure(loop, client);

        output.WriteLine($"{allocated} bytes over {RoundTrips} round trips");
        Assert.True(allocated == 0, $"{allocated} bytes allocated on the loop thread over {RoundTrips} pipe echo round trips");
    }

    private static async Task EchoAsync(AsyncTcpConnection connection)
    {
        byte[] buffer = new byte[4096];
        int n;
        while ((n = await connection.ReceiveAsync(buffer)) > 0)
        {
            await connection.SendAsync(buffer.AsMemory(0, n));
        }
    }

    private static async Task PipeEchoAsync(AsyncTcpConnection connection)
    {
        IDuplexPipe pipe = connection.AsPipe();
        while (true)
        {
            ReadResult result = await pipe.Input.ReadAsync();
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                pipe.Output.Write(segment.Span);
            }

            pipe.Input.AdvanceTo(result.Buffer.End);
            FlushResult flushed = await pipe.Output.FlushAsync();
            if (result.IsCompleted || flushed.IsCompleted)
            {
                return;
            }
        }
    }

    private static TcpServer Start(LoopThread loop, Func<SafeSocketHandle, TcpConnection> factory) => loop.Invoke(() =>
    {
        var s = new TcpServer(Loopback.AnyPort, factory);
        loop.Loop.Add(s);
        return s;
    });

    private static long Measure(LoopThread loop, Socket client)
    {
        byte[] message = new byte[64];
        byte[] reply = new byte[64];
        PingPong(client, message, reply, Warmup);
        long before = AllocatedOnLoopThread(loop.Loop);
        PingPong(client, message, reply, RoundTrips);
        return AllocatedOnLoopThread(loop.Loop) - before;
    }

    private static void PingPong(Socket client, byte[] message, byte[] reply, int count)
    {
        for (int i = 0; i < count; i++)
        {
            BitConverter.TryWriteBytes(message, i);
            client.Send(message);
            int got = 0;
            while (got < reply.Length)
            {
                int n = client.Receive(reply, got, reply.Length - got, SocketFlags.None);
                Assert.NotEqual(0, n);
                got += n;
            }

            Assert.Equal(i, BitConverter.ToInt32(reply));
        }
    }

    // Read from a posted action that itself allocates nothing on the loop thread.
    private static long AllocatedOnLoopThread(EventLoop loop)
    {
        using var probe = new Probe();
        Assert.True(loop.Post(static s =>
        {
            var p = (Probe)s!;
            p.Value = GC.GetAllocatedBytesForCurrentThread();
            p.Done.Set();
        }, probe));
        Assert.True(probe.Done.Wait(TestTimeouts.Passing), "the loop did not run the probe");
        return probe.Value;
    }

    private sealed class Probe : IDisposable
    {
        public ManualResetEventSlim Done { get; } = new();

        public long Value { get; set; }

        public void Dispose() => Done.Dispose();
    }
}
