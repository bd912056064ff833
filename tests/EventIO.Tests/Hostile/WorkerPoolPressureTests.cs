using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EventIO.Net;
using EventIO.Servers;
using EventIO.Tests.Infrastructure;
using EventIO.Work;

namespace EventIO.Tests.Hostile;

/// <summary>
/// 1,000 heavy Fibonacci requests at once: the queue stays bounded, the overflow gets "error: busy" at
/// once, and a small request is still answered at once.
/// </summary>
public sealed class WorkerPoolPressureTests
{
    private const int Heavy = 1000;
    private const int Workers = 2;
    private const int QueueCapacity = 64;

    [Fact]
    public void AThousandHeavyRequests_OverflowIsBusyAtOnce_AndFibOneStillAnswers()
    {
        using var loopThread = new LoopThread();
        using var pool = new WorkerPool(Workers, QueueCapacity);
        UdpFibonacciServer server = loopThread.Invoke(() =>
        {
            // A large socket buffer so the kernel keeps all 1,000 requests: this test is about the pool.
            var s = new UdpFibonacciServer(Loopback.AnyPort, pool, options: new UdpServerOptions { ReceiveBufferSize = 4 << 20 });
            loopThread.Loop.Add(s);
            return s;
        });

        using Socket heavy = Loopback.UdpClient();
        heavy.ReceiveBufferSize = 4 << 20;
        for (int i = 0; i < Heavy; i++)
        {
            heavy.SendTo("32"u8, SocketFlags.None, server.LocalEndPoint);
        }

        // Every request beyond what the workers and the queue hold is refused at once.
        int busy = 0;
        var buffer = new byte[64];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        int mostAccepted = Workers + QueueCapacity + 30; // + what workers may finish meanwhile
        while (busy < Heavy - mostAccepted)
        {
            int n = heavy.ReceiveFrom(buffer, ref from); // ReceiveTimeout is the deadline
            if (buffer.AsSpan(0, n).SequenceEqual("error: busy"u8))
            {
                busy++;
            }
        }

        Assert.True(pool.QueuedCount <= QueueCapacity);

        // A small request is answered at once, however busy the pool is.
        using Socket light = Loopback.UdpClient();
        var watch = Stopwatch.StartNew();
        Assert.Equal("1", Loopback.UdpRequest(light, server.LocalEndPoint, "1"u8));
        Assert.True(watch.Elapsed < TestTimeouts.Scale(TimeSpan.FromSeconds(2)), $"fib 1 took {watch.Elapsed}");

        Assert.True(loopThread.Invoke(() => server.BusyReplies) >= Heavy - mostAccepted);
    }
}
