using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;

namespace EventIO.Benchmarks;

/// <summary>
/// The cost of one loop turn (<see cref="EventLoop.RunOnce"/> with a zero timeout) while
/// <see cref="IdleHandlers"/> UDP sockets bound to 127.0.0.1:0 are registered for receive but never
/// ready. A turn should cost O(ready), so the figures must not grow with the number of idle handlers.
/// </summary>
/// <remarks>
/// One extra handler, a reader on a connected UDP pair, is always registered: idle in
/// <see cref="IdleTurn"/>, made ready by a one-byte datagram in <see cref="OneReadyHandlerTurn"/>.
/// <see cref="SendAndReceiveWithoutLoop"/> is the same send and receive with no loop, so the loop's
/// own share of a ready turn is <c>OneReadyHandlerTurn - SendAndReceiveWithoutLoop</c>.
/// Each idle handler is a real descriptor: 10,000 of them need <c>ulimit -n</c> above 10,000.
/// </remarks>
[MemoryDiagnoser]
public class DispatchBenchmarks
{
    private readonly List<Socket> _sockets = [];
    private readonly byte[] _oneByte = [42];
    private readonly byte[] _receiveBuffer = new byte[64];
    private EventLoop _loop = null!;
    private Socket _sender = null!;
    private Socket _receiver = null!;
    private ByteReader _reader = null!;

    /// <summary>Handlers registered for receive whose sockets never become readable.</summary>
    [Params(0, 100, 10_000)]
    public int IdleHandlers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _loop = new EventLoop();
        for (int i = 0; i < IdleHandlers; i++)
        {
            Socket idle = BoundUdpSocket();
            _loop.Add(new IdleHandler(idle));
        }

        _receiver = BoundUdpSocket();
        _sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _sockets.Add(_sender);
        _sender.Connect(_receiver.LocalEndPoint!);
        _reader = new ByteReader(_receiver, _receiveBuffer);
        _loop.Add(_reader);

        // Prove the wiring before measuring: an idle turn dispatches nothing, a ready turn exactly one.
        if (IdleTurn() != 0)
        {
            throw new InvalidOperationException("An idle turn dispatched a handler.");
        }

        if (OneReadyHandlerTurn() != 1 || _reader.Received != 1)
        {
            throw new InvalidOperationException("The ready reader was not dispatched exactly once.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_reader.Received == 0)
        {
            throw new InvalidOperationException("The reader never ran.");
        }

        _loop.Dispose(); // removes and closes every handler still registered
        foreach (Socket socket in _sockets)
        {
            socket.Dispose();
        }

        _sockets.Clear();
    }

    /// <summary>A turn with nothing ready: interest sync, <c>epoll_wait(0)</c>, empty timer and posted phases.</summary>
    [Benchmark(Baseline = true)]
    public int IdleTurn() => _loop.RunOnce(TimeSpan.Zero);

    /// <summary>One datagram sent to the reader, then a turn that dispatches it (the reader receives the byte).</summary>
    [Benchmark]
    public int OneReadyHandlerTurn()
    {
        _sender.Send(_oneByte, SocketFlags.None, out SocketError _);
        return _loop.RunOnce(TimeSpan.Zero);
    }

    /// <summary>The same send and receive without the loop: the syscalls a ready turn cannot avoid.</summary>
    [Benchmark]
    public int SendAndReceiveWithoutLoop()
    {
        _sender.Send(_oneByte, SocketFlags.None, out SocketError _);
        return _receiver.Receive(_receiveBuffer, SocketFlags.None, out SocketError _);
    }

    private Socket BoundUdpSocket()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _sockets.Add(socket);
        socket.Blocking = false;
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    /// <summary>Wants to receive, is never ready; being dispatched is a bug in the loop.</summary>
    private sealed class IdleHandler(Socket socket) : IEventHandler
    {
        public SafeHandle Handle => socket.SafeHandle;

        public bool WantsToReceive => true;

        public bool WantsToSend => false;

        public void HandleReceive() => throw new InvalidOperationException("An idle handler was dispatched.");

        public void HandleSend() => throw new InvalidOperationException("An idle handler was dispatched.");
    }

    /// <summary>Reads one datagram per readiness event, as a handler must: without blocking.</summary>
    private sealed class ByteReader(Socket socket, byte[] buffer) : IEventHandler
    {
        public int Received { get; private set; }

        public SafeHandle Handle => socket.SafeHandle;

        public bool WantsToReceive => true;

        public bool WantsToSend => false;

        public void HandleReceive()
        {
            if (socket.Receive(buffer, SocketFlags.None, out SocketError error) == 1 && error == SocketError.Success)
            {
                Received++;
            }
        }

        public void HandleSend()
        {
        }
    }
}
