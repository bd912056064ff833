using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using EventIO.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace EventIO.Tests.Diagnostics;

/// <summary>A handler or callback that holds the loop past the threshold is named in a warning.</summary>
public sealed class SlowCallbackTests
{
    [Fact]
    public void SlowHandler_IsLoggedWithItsTypeAndTime()
    {
        var logger = new ListLogger();
        using var loop = new EventLoop(new EventLoopOptions { Logger = logger, SlowCallbackThreshold = TimeSpan.FromMilliseconds(20) });
        using var pair = new UdpPair();
        var slow = new BusyHandler(pair.Server, TimeSpan.FromMilliseconds(60));
        loop.Add(slow);
        pair.Client.Send([1]);

        Assert.True(loop.RunOnce(TestTimeouts.Passing) >= 1);
        Assert.Equal(1, slow.Calls);
        Assert.Equal(1, loop.SlowCallbackCount);
        string warning = Assert.Single(logger.Messages, m => m.Contains("Slow callback", StringComparison.Ordinal));
        Assert.Contains(typeof(BusyHandler).FullName!, warning, StringComparison.Ordinal);
        Assert.Matches(@"held the loop for \d+(\.\d)? ms", warning);
    }

    [Fact]
    public void SlowTimerAndPostedAction_AreNamed_FastOnesAreNot()
    {
        var logger = new ListLogger();
        using var loop = new EventLoop(new EventLoopOptions { Logger = logger, SlowCallbackThreshold = TimeSpan.FromMilliseconds(20) });
        loop.CallLater(TimeSpan.Zero, SlowTimerCallback);
        loop.Post(SlowPostedAction);
        loop.Post(() => { });
        loop.RunOnce(TimeSpan.Zero);

        Assert.Equal(2, loop.SlowCallbackCount);
        Assert.Contains(logger.Messages, m => m.Contains(nameof(SlowTimerCallback), StringComparison.Ordinal));
        Assert.Contains(logger.Messages, m => m.Contains(nameof(SlowPostedAction), StringComparison.Ordinal));
    }

    [Fact]
    public void InfiniteThreshold_TurnsTheCheckOff()
    {
        using var loop = new EventLoop(new EventLoopOptions { SlowCallbackThreshold = Timeout.InfiniteTimeSpan });
        loop.Post(SlowPostedAction);
        loop.RunOnce(TimeSpan.Zero);
        Assert.Equal(0, loop.SlowCallbackCount);
    }

    private static void SlowTimerCallback() => Spin(TimeSpan.FromMilliseconds(40));

    private static void SlowPostedAction() => Spin(TimeSpan.FromMilliseconds(40));

    // Holds the CPU like a handler doing too much work (not a wait for another thread).
    private static void Spin(TimeSpan duration)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration)
        {
            Thread.SpinWait(100);
        }
    }

    private sealed class BusyHandler(Socket socket, TimeSpan work) : IEventHandler
    {
        public int Calls { get; private set; }

        public SafeHandle Handle => socket.SafeHandle;

        public bool WantsToReceive => true;

        public bool WantsToSend => false;

        public void HandleReceive()
        {
            Calls++;
            socket.Receive(new byte[16]);
            Spin(work);
        }

        public void HandleSend()
        {
        }
    }

    private sealed class UdpPair : IDisposable
    {
        public UdpPair()
        {
            Server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            Server.Bind(Loopback.AnyPort);
            Server.Blocking = false;
            Client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            Client.Connect(Server.LocalEndPoint!);
        }

        public Socket Server { get; }

        public Socket Client { get; }

        public void Dispose()
        {
            Server.Dispose();
            Client.Dispose();
        }
    }

    private sealed class ListLogger : ILogger
    {
        public ConcurrentQueue<string> Messages { get; } = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => Messages.Enqueue(formatter(state, exception));
    }
}
