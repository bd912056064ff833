using System.Net.Sockets;
using System.Runtime.Versioning;
using EventIO.Interop;
using EventIO.Polling;

namespace EventIO.Net;

/// <summary>
/// A connection on the io_uring backend does its I/O with requests of its own: one multishot receive into
/// the loop's provided buffers while it reads, and one send of the queue's head at a time. Both are
/// submitted with the turn's one <c>io_uring_enter</c>: no system call per message.
/// </summary>
/// <remarks>
/// The kernel reads a send's bytes until the send completes, and may still complete a receive after the
/// connection closed; so on close the requests are cancelled, the socket is closed (a request keeps the
/// file alive until it ends), and the queue's segments and the completion slot are released with the last
/// completion, never before.
/// </remarks>
public abstract partial class TcpConnection : ICompletionHandler, IRingStartable
{
    private IoUringPoller? _ring;      // the loop's io_uring: this connection's I/O goes through it
    private int _slot = -1;            // its completion slot, once the ring has started
    private bool _receiving;           // a multishot receive is in the kernel
    private bool _receiveMultishot;    // it is multishot (else it ends after one buffer)
    private bool _cancellingReceive;   // and a cancel of it was submitted
    private int _sending;              // bytes of the send in the kernel (0: none)

    [SupportedOSPlatform("linux")]
    void IRingStartable.OnRingStarted(IoUringPoller ring)
    {
        if (IsClosed)
        {
            return;
        }

        _slot = ring.Completions.Add(this);
        SyncRing();
    }

    [SupportedOSPlatform("linux")]
    void ICompletionHandler.OnCompletion(byte operation, int result, uint flags)
    {
        if (operation == RingOperation.Receive)
        {
            Received(result, flags);
        }
        else
        {
            Sent(result);
        }

        if (IsClosed)
        {
            ReleaseRingIfIdle();
        }
    }

    /// <summary>On the io_uring backend, before registration: no readiness, requests of its own instead.</summary>
    private protected sealed override void OnAttaching(EventLoop loop)
    {
        if (OperatingSystem.IsLinux() && loop.Ring is { } ring)
        {
            _ring = ring;
        }
    }

    /// <summary>Once added: start when the ring exists (at once, or at the loop's first wait).</summary>
    private void StartRing()
    {
        if (OperatingSystem.IsLinux())
        {
            _ring?.WhenStarted(this);
        }
    }

    // Arms the receive while reading, cancels it otherwise, and puts the queue's head in flight.
    [SupportedOSPlatform("linux")]
    private void SyncRing()
    {
        if (_slot < 0)
        {
            return; // not started yet: the start does this
        }

        if (IsReading && !_receiving)
        {
            ArmReceive();
        }
        else if (!IsReading && _receiving && !_cancellingReceive)
        {
            CancelRequest(RingOperation.Receive);
            _cancellingReceive = true;
        }

        if (_sending == 0 && !_outgoing.IsEmpty && !IsClosed)
        {
            SubmitSend();
        }
    }

    // Multishot while the queue is short; one buffer per request once it passes the low watermark, so a
    // pause at the high watermark comes at most one buffer late (a multishot receive reads on until its
    // cancel reaches the kernel at the next turn).
    [SupportedOSPlatform("linux")]
    private void ArmReceive()
    {
        ulong userData = _ring!.Completions.UserData(_slot, RingOperation.Receive);
        _receiveMultishot = _outgoing.Length <= _options.LowWatermark;
        if (_receiveMultishot)
        {
            IoUringPrep.RecvMultishot(ref _ring.Ring!.GetSqe(), Descriptor, IoUringPoller.StreamBufferGroup, userData);
        }
        else
        {
            IoUringPrep.RecvOnce(ref _ring.Ring!.GetSqe(), Descriptor, IoUringPoller.StreamBufferGroup, userData);
        }

        _ = _ring.StreamBuffers; // made before the first enter that needs it
        _receiving = true;
    }

    [SupportedOSPlatform("linux")]
    private unsafe void SubmitSend()
    {
        ReadOnlySpan<byte> head = _outgoing.FirstSpan;
        fixed (byte* data = head) // a pinned segment (SegmentPool): the address holds until the send completes
        {
            IoUringPrep.Send(ref _ring!.Ring!.GetSqe(), Descriptor, data, (uint)head.Length, _ring.Completions.UserData(_slot, RingOperation.Send));
        }

        _sending = head.Length;
    }

    // A receive's completion: bytes in a provided buffer, the end of the stream, or an error. A last
    // completion (no F_MORE) means the receive ended; it is armed again if the connection still reads.
    [SupportedOSPlatform("linux")]
    private void Received(int result, uint flags)
    {
        bool more = (flags & Libc.IORING_CQE_F_MORE) != 0;
        if (!more)
        {
            _receiving = false;
            _cancellingReceive = false;
        }

        if (result > 0)
        {
            ProvidedBufferRing buffers = _ring!.StreamBuffers;
            ushort id = (ushort)(flags >> Libc.IORING_CQE_BUFFER_SHIFT);
            try
            {
                if (_state is TcpConnectionState.Open or TcpConnectionState.ReadPaused)
                {
                    Deliver(buffers.Get(id, result)); // read before a pause took effect: delivered, as read
                }
                else if (_state == TcpConnectionState.Lingering)
                {
                    _lastReceived = RunningNow; // discarded while waiting for the peer's FIN
                }
            }
            finally
            {
                buffers.Recycle(id);
            }
        }
        else if (result == 0 && IsReading)
        {
            if (_state == TcpConnectionState.Lingering)
            {
                CloseWith(TcpCloseReason.Completed); // the peer's FIN
            }
            else
            {
                EndOfStream();
            }
        }
        else if (result < 0 && result is not (-Libc.ENOBUFS or -Libc.ECANCELED) && !IsClosed)
        {
            CloseOnError(Libc.ToSocketError(-result)); // ENOBUFS: the buffers ran dry; armed again below
        }

        if (!more && !IsClosed)
        {
            SyncRing();
        }
        else if (more && _receiveMultishot && !_cancellingReceive && _outgoing.Length > _options.LowWatermark)
        {
            CancelRequest(RingOperation.Receive); // falling behind: one buffer per request from now on
            _cancellingReceive = true;
        }
    }

    [SupportedOSPlatform("linux")]
    private void Sent(int result)
    {
        int length = _sending;
        _sending = 0;
        if (IsClosed)
        {
            return;
        }

        if (result < 0)
        {
            CloseOnError(Libc.ToSocketError(-result));
            return;
        }

        int sent = Math.Min(result, length);
        _outgoing.Consume(sent); // a short send: the rest goes next
        Owner?.AddQueued(-sent);
        if (!_outgoing.IsEmpty)
        {
            SubmitSend();
        }

        AfterSend();
    }

    // Close on io_uring: cancel what is in flight; the buffers go with the last completion.
    [SupportedOSPlatform("linux")]
    private void CloseRing()
    {
        if (_slot < 0)
        {
            _outgoing.Dispose(); // never started: nothing in the kernel
            ReleaseBuffers();
            return;
        }

        if (_receiving && !_cancellingReceive)
        {
            CancelRequest(RingOperation.Receive);
            _cancellingReceive = true;
        }

        if (_sending > 0)
        {
            CancelRequest(RingOperation.Send);
        }

        ReleaseRingIfIdle();
    }

    [SupportedOSPlatform("linux")]
    private void ReleaseRingIfIdle()
    {
        if (_slot < 0 || _receiving || _sending > 0)
        {
            return;
        }

        _ring!.Completions.Remove(_slot);
        _slot = -1;
        _outgoing.Dispose();
        ReleaseBuffers();
    }

    [SupportedOSPlatform("linux")]
    private void CancelRequest(byte operation)
        => IoUringPrep.Cancel(ref _ring!.Ring!.GetSqe(), _ring.Completions.UserData(_slot, operation), all: false, (ulong)RingOperation.Cancel << 56);
}
