using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using EventIO.Net;

namespace EventIO.Cli.Load;

/// <summary>
/// One TCP connection of a load run, as an EventIO handler: keeps <see cref="BenchSettings.Pipeline"/>
/// messages in flight, verifies every echoed byte as it arrives, and sends the next message as soon as
/// one is whole. A connection whose echo does not match is closed and counted as a mismatch; one that
/// fails (reset, end of stream) is closed and counted as an error.
/// </summary>
/// <remarks>
/// Per round trip: one <c>recv</c> into the loop's shared buffer, one <c>send</c> from this connection's
/// preallocated buffer, and a share of one <c>epoll_wait</c>; no allocation. The kernel is asked for
/// write readiness only while the socket buffer is full.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class TcpLoadConnection : IEventHandler, IDisposable
{
    private readonly LoadRun _run;
    private readonly Socket _socket;
    private readonly SafeHandle _handle;
    private readonly uint _id;
    private readonly int _size;
    private readonly int _depth;
    private readonly byte[] _outgoing;  // unsent bytes are [_sendOffset, _sendLength)
    private readonly long[] _sentAt;    // send time of message m at m % depth
    private int _sendOffset;
    private int _sendLength;
    private ulong _nextToSend;          // messages queued so far
    private ulong _receiving;           // the message being received
    private int _receivedBytes;         // bytes of it received so far
    private bool _closed;

    /// <summary>Takes over a connected socket; it is made non-blocking.</summary>
    internal TcpLoadConnection(LoadRun run, Socket socket, uint id)
    {
        _run = run;
        _socket = socket;
        _handle = socket.SafeHandle;
        _socket.Blocking = false;
        _id = id;
        _size = run.Settings.Size;
        _depth = run.Settings.Pipeline;
        _outgoing = GC.AllocateUninitializedArray<byte>(_size * _depth);
        _sentAt = new long[_depth];
    }

    public SafeHandle Handle => _handle;

    public bool WantsToReceive => !_closed;

    public bool WantsToSend => !_closed && _sendOffset < _sendLength;

    internal bool IsClosed => _closed;

    /// <summary>Fills the pipeline. Call before adding the connection to the loop.</summary>
    internal void Start() => Fill();

    public void HandleReceive()
    {
        Span<byte> buffer = _run.Loop.ReceiveBuffer;
        int n = SocketCalls.Receive(_handle, buffer, out SocketError error);
        if (n < 0)
        {
            if (error != SocketError.WouldBlock)
            {
                Fail(mismatch: false, $"receive failed: {new SocketException((int)error).Message}");
            }

            return;
        }

        if (n == 0)
        {
            Fail(mismatch: false, "the server closed the connection");
            return;
        }

        long now = Stopwatch.GetTimestamp();
        ReadOnlySpan<byte> data = buffer[..n];
        while (!data.IsEmpty)
        {
            int take = Math.Min(_size - _receivedBytes, data.Length);
            if (_receiving >= _nextToSend || !_run.Pattern.Matches(data[..take], _id, _receiving, _receivedBytes))
            {
                Fail(mismatch: true, "the echoed bytes do not match what was sent");
                return;
            }

            data = data[take..];
            _receivedBytes += take;
            if (_receivedBytes == _size)
            {
                _run.Complete(now, _sentAt[(int)(_receiving % (uint)_depth)]);
                _receiving++;
                _receivedBytes = 0;
                _run.Retire(1);
            }
        }

        Fill();
    }

    public void HandleSend() => Flush();

    /// <summary>Closes the socket (FIN if every echo was read) and leaves the loop. Idempotent.</summary>
    public void Dispose()
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        _run.Loop.Remove(this);
        _socket.Dispose();
    }

    // Queue messages until `depth` are in flight, then write what the socket takes.
    private void Fill()
    {
        if (_run.Stopping || _nextToSend - _receiving >= (uint)_depth)
        {
            return;
        }

        long now = Stopwatch.GetTimestamp();
        int queued = 0;
        while (_nextToSend - _receiving < (uint)_depth)
        {
            if (_sendLength + _size > _outgoing.Length)
            {
                // Compact: fewer than `depth` messages are in flight, so the unsent rest leaves room for one more.
                _outgoing.AsSpan(_sendOffset, _sendLength - _sendOffset).CopyTo(_outgoing);
                _sendLength -= _sendOffset;
                _sendOffset = 0;
            }

            _run.Pattern.Build(_outgoing.AsSpan(_sendLength, _size), _id, _nextToSend);
            _sentAt[(int)(_nextToSend % (uint)_depth)] = now;
            _nextToSend++;
            _sendLength += _size;
            queued++;
        }

        _run.Sent(queued);
        Flush();
    }

    private void Flush()
    {
        while (_sendOffset < _sendLength)
        {
            int n = SocketCalls.Send(_handle, _outgoing.AsSpan(_sendOffset, _sendLength - _sendOffset), out SocketError error);
            if (n >= 0)
            {
                _sendOffset += n;
            }
            else if (error == SocketError.WouldBlock)
            {
                return; // WantsToSend is now true; the loop re-reads it after this dispatch (or at Add)
            }
            else
            {
                Fail(mismatch: false, $"send failed: {new SocketException((int)error).Message}");
                return;
            }
        }

        _sendOffset = _sendLength = 0;
    }

    private void Fail(bool mismatch, string message)
    {
        if (_closed)
        {
            return;
        }

        if (mismatch)
        {
            _run.Mismatches++;
        }
        else
        {
            _run.Errors++;
        }

        _run.Report($"tcp connection {_id}: {message}");
        Dispose();
        _run.Retire((long)(_nextToSend - _receiving));
        _run.ConnectionClosed();
    }
}
