using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using EventIO.Net;

namespace EventIO.Cli.Load;

/// <summary>
/// One connected UDP socket of a load run, as an EventIO handler: keeps <see cref="BenchSettings.Pipeline"/>
/// datagrams in flight, one per slot. A verified echo completes its slot, which sends the next datagram;
/// a slot with no echo after <see cref="BenchSettings.Timeout"/> counts as lost and sends a new one
/// (<see cref="ScanTimeouts"/>); an echo that arrives after that, or twice, counts as late.
/// </summary>
/// <remarks>
/// Slot <c>s</c> sends messages <c>s + 1</c>, <c>s + 1 + depth</c>, <c>s + 1 + 2·depth</c>…, so an echo's
/// slot is <c>(m - 1) % depth</c>: no search, whatever the depth. Every datagram carries the echoload
/// message for <c>(socket, m)</c> and is verified whole.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class UdpLoadSocket : IEventHandler, IDisposable
{
    private const int MaxReadsPerEvent = 64;

    private readonly LoadRun _run;
    private readonly Socket _socket;
    private readonly SafeHandle _handle;
    private readonly uint _id;
    private readonly int _size;
    private readonly int _depth;
    private readonly ulong[] _slotMessage;  // the last message sent from each slot (0: none yet)
    private readonly long[] _sentAt;
    private readonly bool[] _waiting;       // slot has a datagram in flight
    private bool _closed;

    /// <summary>Takes over a connected UDP socket; it is made non-blocking.</summary>
    internal UdpLoadSocket(LoadRun run, Socket socket, uint id)
    {
        _run = run;
        _socket = socket;
        _handle = socket.SafeHandle;
        _socket.Blocking = false;
        _id = id;
        _size = run.Settings.Size;
        _depth = run.Settings.Pipeline;
        _slotMessage = new ulong[_depth];
        _sentAt = new long[_depth];
        _waiting = new bool[_depth];
    }

    public SafeHandle Handle => _handle;

    public bool WantsToReceive => !_closed;

    public bool WantsToSend => false; // datagrams go out at once; one the kernel drops is resent after the timeout

    /// <summary>Sends one datagram from every slot.</summary>
    internal void Start()
    {
        long now = Stopwatch.GetTimestamp();
        for (int slot = 0; slot < _depth; slot++)
        {
            Send(slot, now);
        }

        _run.Sent(_depth);
    }

    public void HandleReceive()
    {
        // At most one read per datagram that can be in flight: with depth 1 no read is spent on EAGAIN.
        int reads = Math.Min(_depth, MaxReadsPerEvent);
        Span<byte> buffer = _run.Loop.ReceiveBuffer;
        for (int i = 0; i < reads && !_closed; i++)
        {
            int n = SocketCalls.Receive(_handle, buffer, out SocketError error);
            if (n < 0)
            {
                if (error != SocketError.WouldBlock)
                {
                    // ECONNREFUSED: an ICMP "port unreachable" for an earlier datagram (the server went away).
                    _run.Errors++;
                    _run.Report($"udp socket {_id}: receive failed: {new SocketException((int)error).Message}");
                }

                return;
            }

            OnDatagram(buffer[..n], Stopwatch.GetTimestamp());
        }
    }

    public void HandleSend()
    {
    }

    /// <summary>
    /// Slots waiting longer than the timeout: during the run, count the datagram lost and send a new one;
    /// after the window, give up on it.
    /// </summary>
    internal void ScanTimeouts(long now, long timeoutTicks)
    {
        for (int slot = 0; slot < _depth && !_closed; slot++)
        {
            if (!_waiting[slot] || now - _sentAt[slot] <= timeoutTicks)
            {
                continue;
            }

            if (_run.Stopping)
            {
                _waiting[slot] = false;
                _run.Retire(1);
            }
            else
            {
                if (_run.InWindow(now))
                {
                    _run.Lost++;
                }

                Send(slot, now);
            }
        }
    }

    /// <summary>Closes the socket and leaves the loop. Idempotent.</summary>
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

    private void OnDatagram(ReadOnlySpan<byte> datagram, long now)
    {
        if (datagram.Length < MessagePattern.TagSize)
        {
            _run.Mismatches++;
            return;
        }

        ulong message = MessagePattern.MessageOf(_id, datagram);
        int slot = (int)((message - 1) % (uint)_depth);
        bool intact = message != 0 && datagram.Length == _size && _run.Pattern.Matches(datagram, _id, message, 0);
        if (_waiting[slot] && message == _slotMessage[slot])
        {
            if (!intact)
            {
                _run.Mismatches++; // keep waiting; the timeout resends
                return;
            }

            _run.Complete(now, _sentAt[slot]);
            if (_run.Stopping)
            {
                _waiting[slot] = false;
                _run.Retire(1);
            }
            else
            {
                Send(slot, Stopwatch.GetTimestamp());
            }
        }
        else if (intact && message <= _slotMessage[slot])
        {
            // The echo of a datagram already counted lost and sent again, or a duplicate.
            if (!_run.Stopping && now >= _run.WindowStart)
            {
                _run.Late++;
            }
        }
        else
        {
            _run.Mismatches++;
        }
    }

    private void Send(int slot, long now)
    {
        ulong message = _slotMessage[slot] == 0 ? (ulong)slot + 1 : _slotMessage[slot] + (ulong)_depth;
        _slotMessage[slot] = message;
        _sentAt[slot] = now;
        _waiting[slot] = true;
        Span<byte> datagram = _run.SendBuffer;
        _run.Pattern.Build(datagram, _id, message);
        SocketCalls.Send(_handle, datagram, out SocketError error);
        if (error is not (SocketError.Success or SocketError.WouldBlock or SocketError.NoBufferSpaceAvailable))
        {
            _run.Errors++; // the timeout sends it again
            _run.Report($"udp socket {_id}: send failed: {new SocketException((int)error).Message}");
        }
    }
}
