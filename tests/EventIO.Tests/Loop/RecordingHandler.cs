using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace EventIO.Tests.Loop;

/// <summary>
/// A test handler over a socket: records every callback, drains what it can read, and lets a test hook
/// in behaviour. Counters are safe to read from the test thread while a loop thread runs it.
/// </summary>
internal sealed class RecordingHandler : IEventHandler, IDisposable
{
    private readonly SafeHandle _handle;
    private readonly List<string>? _log;
    private readonly string _name;
    private int _receiveCount;
    private int _sendCount;
    private long _bytesReceived;
    private int _disposed;
    private volatile bool _wantsToReceive;
    private volatile bool _wantsToSend;

    /// <param name="socket">The socket the handler reads from and writes to.</param>
    /// <param name="log">If given, every callback appends "name:receive" or "name:send" (loop thread only).</param>
    /// <param name="name">The name used in <paramref name="log"/>.</param>
    /// <param name="handle">The handle to report to the loop, if not the socket's own (e.g. a duplicate).</param>
    public RecordingHandler(Socket socket, List<string>? log = null, string name = "h", SafeHandle? handle = null)
    {
        Socket = socket;
        _log = log;
        _name = name;
        _handle = handle ?? socket.SafeHandle;
    }

    public Socket Socket { get; }

    public SafeHandle Handle => _handle;

    public bool WantsToReceive
    {
        get => _wantsToReceive;
        set => _wantsToReceive = value;
    }

    public bool WantsToSend
    {
        get => _wantsToSend;
        set => _wantsToSend = value;
    }

    /// <summary>Runs after the handler drained its socket in <see cref="HandleReceive"/>.</summary>
    public Action<RecordingHandler>? OnReceive { get; set; }

    /// <summary>Runs in <see cref="HandleSend"/>.</summary>
    public Action<RecordingHandler>? OnSend { get; set; }

    public int ReceiveCount => Volatile.Read(ref _receiveCount);

    public int SendCount => Volatile.Read(ref _sendCount);

    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    /// <summary>True once a receive returned end of stream or an error.</summary>
    public bool SawEndOrError { get; private set; }

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    public void HandleReceive()
    {
        Interlocked.Increment(ref _receiveCount);
        _log?.Add($"{_name}:receive");
        Drain();
        OnReceive?.Invoke(this);
    }

    public void HandleSend()
    {
        Interlocked.Increment(ref _sendCount);
        _log?.Add($"{_name}:send");
        OnSend?.Invoke(this);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Socket.Dispose();
            if (!ReferenceEquals(_handle, Socket.SafeHandle))
            {
                _handle.Dispose();
            }
        }
    }

    private void Drain()
    {
        Span<byte> buffer = stackalloc byte[4096];
        while (true)
        {
            int n = Socket.Receive(buffer, SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock)
            {
                return;
            }

            if (error != SocketError.Success || n == 0)
            {
                SawEndOrError = true;
                return;
            }

            Interlocked.Add(ref _bytesReceived, n);
        }
    }
}
