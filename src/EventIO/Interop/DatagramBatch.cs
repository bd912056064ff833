using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EventIO.Interop;

/// <summary>
/// Datagram slots for <c>recvmmsg</c> and <c>sendmmsg</c>: up to <see cref="Capacity"/> datagrams received
/// in one call, each with its sender, and up to as many replies sent in one call, each to its own address.
/// All of it in one pinned allocation, set up once: nothing is allocated per datagram.
/// </summary>
/// <remarks>
/// <para><b>Replies:</b> a reply that lies inside a received slot (an echo) is sent from there, without a
/// copy; any other is copied into a reply arena. Replies are valid until <see cref="Flush"/>; the next
/// <see cref="Receive"/> overwrites the slots, so flush first.</para>
/// <para><b>Threading:</b> one loop thread (the batch is shared by that loop's UDP servers, one at a time).</para>
/// </remarks>
internal sealed unsafe class DatagramBatch
{
    /// <summary>The most datagrams per call: a batch of 64 is what one readiness event may carry (UdpServerOptions.ReceiveBudget).</summary>
    internal const int Capacity = 64;

    private const int AddressSize = 128; // sockaddr_storage: room for any family
    private const int ArenaSize = 64 * 1024;

    private readonly byte[] _memory; // pinned
    private readonly int _slotSize;
    private readonly Libc.mmsghdr* _received;
    private readonly Libc.mmsghdr* _replies;
    private readonly Libc.iovec* _replyVectors;
    private readonly byte* _replyAddresses;
    private readonly byte* _slots;
    private readonly byte* _arena;
    private int _queued;
    private int _arenaUsed;

    /// <summary>Makes <see cref="Capacity"/> slots of <paramref name="slotSize"/> bytes (a longer datagram is truncated).</summary>
    internal DatagramBatch(int slotSize)
    {
        _slotSize = slotSize;
        int headers = Capacity * sizeof(Libc.mmsghdr);
        int vectors = Capacity * sizeof(Libc.iovec);
        int addresses = Capacity * AddressSize;
        _memory = GC.AllocateUninitializedArray<byte>((2 * (headers + vectors + addresses)) + (Capacity * slotSize) + ArenaSize + 64, pinned: true);
        byte* p = (byte*)((nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_memory)) + 63 & ~(nuint)63);
        _received = (Libc.mmsghdr*)p;
        _replies = (Libc.mmsghdr*)(p += headers);
        var receivedVectors = (Libc.iovec*)(p += headers);
        _replyVectors = (Libc.iovec*)(p += vectors);
        byte* receivedAddresses = p += vectors;
        _replyAddresses = p += addresses;
        _slots = p += addresses;
        _arena = p + ((nint)Capacity * slotSize);
        for (int i = 0; i < Capacity; i++)
        {
            receivedVectors[i] = new Libc.iovec { iov_base = _slots + ((nint)i * slotSize), iov_len = (nuint)slotSize };
            _received[i] = default;
            _received[i].msg_hdr.msg_iov = &receivedVectors[i];
            _received[i].msg_hdr.msg_iovlen = 1;
            _received[i].msg_hdr.msg_name = receivedAddresses + (i * AddressSize);
            _replies[i] = default;
            _replies[i].msg_hdr.msg_iov = &_replyVectors[i];
            _replies[i].msg_hdr.msg_iovlen = 1;
            _replies[i].msg_hdr.msg_name = _replyAddresses + (i * AddressSize);
        }
    }

    /// <summary>Replies queued and not yet flushed.</summary>
    internal int Queued => _queued;

    /// <summary>Receives up to <paramref name="count"/> datagrams (at most <see cref="Capacity"/>): how many, or -errno.</summary>
    internal int Receive(int fd, int count)
    {
        count = Math.Min(count, Capacity);
        for (int i = 0; i < count; i++)
        {
            _received[i].msg_hdr.msg_namelen = AddressSize; // in-out: the kernel writes the real length
        }

        return SocketSyscalls.ReceiveMany(fd, _received, count);
    }

    /// <summary>Datagram <paramref name="index"/> of the last receive, as long as it fitted its slot.</summary>
    internal Span<byte> Datagram(int index) => new(_slots + ((nint)index * _slotSize), (int)_received[index].msg_len);

    /// <summary>True if datagram <paramref name="index"/> was longer than its slot and was cut.</summary>
    internal bool IsTruncated(int index) => (_received[index].msg_hdr.msg_flags & Libc.MSG_TRUNC) != 0;

    /// <summary>Copies the sender of datagram <paramref name="index"/> into <paramref name="address"/>.</summary>
    internal void CopySender(int index, SocketAddress address)
    {
        Span<byte> into = address.Buffer.Span;
        int length = (int)Math.Min(_received[index].msg_hdr.msg_namelen, (uint)into.Length);
        new ReadOnlySpan<byte>(_received[index].msg_hdr.msg_name, length).CopyTo(into);
        address.Size = length;
    }

    /// <summary>Queues a reply to <paramref name="to"/>; false if the batch or the arena is full (flush, then queue).</summary>
    internal bool TryQueue(ReadOnlySpan<byte> reply, SocketAddress to)
    {
        if (_queued == Capacity || to.Size > AddressSize)
        {
            return false;
        }

        byte* data = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(reply));
        if (data < _slots || data + reply.Length > _slots + ((nint)Capacity * _slotSize))
        {
            if (_arenaUsed + reply.Length > ArenaSize)
            {
                return false;
            }

            data = _arena + _arenaUsed; // not in a received slot: copy it
            reply.CopyTo(new Span<byte>(data, reply.Length));
            _arenaUsed += reply.Length;
        }

        int i = _queued++;
        _replyVectors[i].iov_base = data;
        _replyVectors[i].iov_len = (nuint)reply.Length;
        to.Buffer.Span[..to.Size].CopyTo(new Span<byte>(_replyAddresses + (i * AddressSize), AddressSize));
        _replies[i].msg_hdr.msg_namelen = (uint)to.Size;
        return true;
    }

    /// <summary>Forgets every queued reply (the socket closed meanwhile); returns how many.</summary>
    internal int Discard()
    {
        int discarded = _queued;
        _queued = 0;
        _arenaUsed = 0;
        return discarded;
    }

    /// <summary>
    /// Sends every queued reply, in order. A reply the kernel refuses (an ICMP error reported on the socket,
    /// say) is dropped and the rest still go; when the socket buffer is full (EAGAIN) the rest are dropped.
    /// </summary>
    /// <returns>The replies sent; <paramref name="dropped"/> is how many were not, <paramref name="wouldBlock"/> of them because the buffer was full.</returns>
    internal int Flush(int fd, out int dropped, out int wouldBlock)
    {
        int sent = 0, next = 0;
        dropped = 0;
        wouldBlock = 0;
        while (next < _queued)
        {
            int n = SocketSyscalls.SendMany(fd, _replies + next, _queued - next);
            if (n > 0)
            {
                sent += n;
                next += n;
            }
            else if (n == -Libc.EAGAIN)
            {
                wouldBlock = _queued - next; // the buffer is full: the rest would fail alike
                dropped += wouldBlock;
                break;
            }
            else
            {
                dropped++; // refused: skip this one
                next++;
            }
        }

        _queued = 0;
        _arenaUsed = 0;
        return sent;
    }
}
