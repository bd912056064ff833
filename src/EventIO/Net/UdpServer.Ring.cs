using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using EventIO.Interop;
using EventIO.Polling;

namespace EventIO.Net;

/// <summary>
/// A UDP server on the io_uring backend receives with one multishot RECVMSG into the loop's datagram
/// buffers (one completion per datagram, no system call) and sends each reply as a SENDMSG from a reply
/// slot of its own; every request of a turn goes out with the turn's one <c>io_uring_enter</c>.
/// </summary>
/// <remarks>
/// A reply slot holds the msghdr, the address and up to 2 KiB of payload until the send completes; a longer
/// reply, or one made while every slot is in flight, is sent at once with <c>sendto</c> as on the readiness
/// path. A reply is counted in <see cref="RepliesSent"/> when handed to the kernel, and moved to
/// <see cref="RepliesDropped"/> if its completion reports an error. On close the receive is cancelled and the replies in
/// flight are submitted at once (a closing server's last replies are not lost); the slots' memory is released
/// with the last completion. With <see cref="UdpServerOptions.BatchSize"/> 1 every reply goes out at once
/// with <c>sendto</c>, so <see cref="SendTo"/> knows whether the kernel took it, as on the readiness path.
/// </remarks>
public abstract partial class UdpServer : ICompletionHandler, IRingStartable
{
    private const int ReplySlotCount = 128;
    private const int ReplyPayloadSize = 2048;
    private const int ReplySlotSize = 2304; // msghdr 56, iovec 16, sockaddr_storage 128, payload 2048: 64-byte multiple

    private IoUringPoller? _ring;
    private int _slot = -1;
    private bool _ringReceives;       // datagrams come from the ring's multishot RECVMSG
    private bool _receiving;          // that request is in the kernel
    private int _sendsInFlight;
    private byte[]? _ringMemory;      // pinned: the receive's msghdr, then the reply slots
    private int[]? _freeReplies;      // a stack of free reply slot numbers
    private int _freeCount;

    [SupportedOSPlatform("linux")]
    void IRingStartable.OnRingStarted(IoUringPoller ring)
    {
        if (IsClosed)
        {
            return;
        }

        int slots = Math.Min(ReplySlotCount, RingOperation.ReplyKinds);
        _ringMemory = GC.AllocateArray<byte>(64 + (slots * ReplySlotSize), pinned: true);
        _freeReplies = new int[slots];
        for (int i = 0; i < slots; i++)
        {
            _freeReplies[i] = slots - 1 - i;
        }

        _freeCount = slots;
        _slot = ring.Completions.Add(this);
        _ringReceives = true;
        Loop.Update(this); // no readiness from now on
        ArmReceive();
    }

    [SupportedOSPlatform("linux")]
    void ICompletionHandler.OnCompletion(byte operation, int result, uint flags)
    {
        if (operation == RingOperation.ReceiveMessage)
        {
            ReceivedMessage(result, flags);
        }
        else if (operation >= RingOperation.FirstReply)
        {
            ReplyCompleted(operation - RingOperation.FirstReply, result);
        }

        ReleaseRingIfDone();
    }

    private protected sealed override void OnAttaching(EventLoop loop)
    {
        if (OperatingSystem.IsLinux() && loop.Ring is { } ring)
        {
            _ring = ring;
        }
    }

    private protected sealed override void OnAttached()
    {
        if (OperatingSystem.IsLinux())
        {
            _ring?.WhenStarted(this);
        }
    }

    [SupportedOSPlatform("linux")]
    private unsafe void ArmReceive()
    {
        if (_slot < 0 || _receiving || IsClosed)
        {
            return;
        }

        _ = _ring!.DatagramBuffers(Loop.ReceiveBuffer.Length); // made before the first enter that needs it
        fixed (byte* memory = _ringMemory)
        {
            var message = (Libc.msghdr*)memory; // only the two lengths: the kernel lays out each buffer by them
            *message = default;
            message->msg_namelen = IoUringPoller.DatagramNameSize;
            IoUringPrep.RecvMsgMultishot(ref _ring.Ring!.GetSqe(), Descriptor, message, IoUringPoller.DatagramBufferGroup, _ring.Completions.UserData(_slot, RingOperation.ReceiveMessage));
        }

        _receiving = true;
    }

    // One datagram (or the end of the request: no F_MORE, re-armed unless closed).
    [SupportedOSPlatform("linux")]
    private void ReceivedMessage(int result, uint flags)
    {
        bool more = (flags & Libc.IORING_CQE_F_MORE) != 0;
        if (!more)
        {
            _receiving = false;
        }

        if (result >= 0 && (flags & Libc.IORING_CQE_F_BUFFER) != 0)
        {
            ProvidedBufferRing buffers = _ring!.DatagramBuffers(Loop.ReceiveBuffer.Length);
            ushort id = (ushort)(flags >> Libc.IORING_CQE_BUFFER_SHIFT);
            try
            {
                if (!IsClosed && IoUringRecvMessage.TryParse(buffers.Get(id, result), IoUringPoller.DatagramNameSize, 0, out IoUringRecvMessage message))
                {
                    DatagramsReceived++;
                    if (message.IsTruncated)
                    {
                        TruncatedDatagrams++;
                    }

                    message.Name.CopyTo(_remote.Buffer.Span);
                    _remote.Size = message.Name.Length;
                    if (_limiter is null || Allowed(System.Diagnostics.Stopwatch.GetTimestamp()))
                    {
                        OnDatagram(message.Payload, _remote);
                    }
                }
            }
            finally
            {
                buffers.Recycle(id);
            }
        }
        else if (result < 0 && result is not (-Libc.ENOBUFS or -Libc.ECANCELED or -Libc.EINTR) && !IsClosed)
        {
            ReceiveErrors++; // an ICMP error for an earlier reply, say: the request is armed again
        }

        if (!more && _ringReceives)
        {
            ArmReceive();
        }
    }

    // A reply through a slot: false when it must go out by sendto (too long, or every slot in flight).
    [SupportedOSPlatform("linux")]
    private unsafe bool TrySendThroughRing(ReadOnlySpan<byte> datagram, SocketAddress remote)
    {
        if (_freeCount == 0 || datagram.Length > ReplyPayloadSize || remote.Size > IoUringPoller.DatagramNameSize)
        {
            return false;
        }

        int index = _freeReplies![--_freeCount];
        fixed (byte* memory = _ringMemory)
        {
            byte* slot = memory + 64 + (index * ReplySlotSize);
            var message = (Libc.msghdr*)slot;
            var vector = (Libc.iovec*)(slot + 56);
            byte* name = slot + 72;
            byte* payload = slot + 200;
            remote.Buffer.Span[..remote.Size].CopyTo(new Span<byte>(name, remote.Size));
            datagram.CopyTo(new Span<byte>(payload, datagram.Length));
            vector->iov_base = payload;
            vector->iov_len = (nuint)datagram.Length;
            *message = default;
            message->msg_name = name;
            message->msg_namelen = (uint)remote.Size;
            message->msg_iov = vector;
            message->msg_iovlen = 1;
            IoUringPrep.SendMsg(ref _ring!.Ring!.GetSqe(), Descriptor, message, _ring.Completions.UserData(_slot, (byte)(RingOperation.FirstReply + index)));
        }

        _sendsInFlight++;
        RepliesSent++;
        return true;
    }

    private void ReplyCompleted(int index, int result)
    {
        _freeReplies![_freeCount++] = index;
        _sendsInFlight--;
        if (result < 0)
        {
            RepliesSent--; // counted when handed over; the kernel refused it after all
            RepliesDropped++;
            if (result == -Libc.EAGAIN)
            {
                RepliesDroppedWouldBlock++;
            }
            else if (result == -Libc.ECANCELED)
            {
                RepliesDroppedClosed++;
            }
        }
    }

    // Closing: replies queued this turn go out now (the loop may stop before its next enter: a closing server's
    // last replies, "shutting down" say, must not be lost), and the receive, which keeps the socket's file
    // alive while it lasts, is cancelled. The sends end by themselves.
    private void StopRing()
    {
        _ringReceives = false;
        if (!OperatingSystem.IsLinux() || _slot < 0)
        {
            return;
        }

        if (_receiving)
        {
            IoUringPrep.Cancel(ref _ring!.Ring!.GetSqe(), _ring.Completions.UserData(_slot, RingOperation.ReceiveMessage), all: false, (ulong)RingOperation.Cancel << 56);
        }

        if (_sendsInFlight > 0 && _ring!.Ring!.IsOwnerThread)
        {
            _ = _ring.Ring.SubmitAndWait(0, 0); // (a loop disposed from another thread cannot enter its ring: those replies go with it)
        }

        ReleaseRingIfDone();
    }

    private void ReleaseRingIfDone()
    {
        if (OperatingSystem.IsLinux() && _slot >= 0 && IsClosed && !_receiving && _sendsInFlight == 0)
        {
            _ring!.Completions.Remove(_slot);
            _slot = -1;
        }
    }

    /// <summary>True once datagrams come from the ring's multishot RECVMSG rather than readiness (for tests).</summary>
    internal bool ReceivesThroughRing => _ringReceives;

    private int Descriptor => (int)_handle.DangerousGetHandle();
}
