using System.Numerics;
using System.Runtime.Versioning;
using EventIO.Interop;

namespace EventIO.Polling;

/// <summary>
/// A provided-buffer ring (IORING_REGISTER_PBUF_RING, 5.19): <see cref="Count"/> buffers of
/// <see cref="BufferSize"/> bytes that the kernel picks from, in ring order, for requests submitted with
/// IOSQE_BUFFER_SELECT and this <see cref="GroupId"/> (multishot RECV and RECVMSG). A completion that used one
/// carries IORING_CQE_F_BUFFER and its id (<see cref="IoUringCompletion.BufferId"/>); the buffer then belongs
/// to the caller until it is given back with <see cref="Recycle"/> and <see cref="PublishRecycled"/>.
/// </summary>
/// <remarks>
/// <para><b>Running dry:</b> when a request finds no buffer, the kernel completes it with <c>-ENOBUFS</c> and
/// no IORING_CQE_F_MORE: a multishot receive is no longer armed. The data stays in the socket. The caller
/// must recycle buffers (process or copy what it holds), publish them, and submit the receive again.</para>
/// <para><b>Memory:</b> one anonymous private mapping, page-aligned as the kernel requires for the ring: the
/// ring entries (16 bytes each, the ring's 16-bit tail overlaid on entry 0) rounded up to a page, then the
/// buffers back to back. Buffer <c>i</c> is at a fixed place, so <see cref="Get"/> is arithmetic.</para>
/// <para><b>Threading:</b> the ring's owner thread only (registration is refused elsewhere under
/// SINGLE_ISSUER, and the tail is not synchronised between user threads).</para>
/// <para><b>Ownership:</b> <see cref="Dispose"/> unregisters the group and unmaps the memory. If the group
/// cannot be unregistered (called off the owner thread, or refused) the memory is deliberately leaked rather
/// than freed under a kernel that may still write into it. Dispose the ring after this object, or dispose
/// the ring first (closing it releases the group) and then this object.</para>
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed unsafe class ProvidedBufferRing : IDisposable
{
    private readonly IoUring _ring;
    private readonly nuint _mappingSize;
    private readonly Libc.io_uring_buf* _entries;
    private readonly ushort* _tail;
    private readonly byte* _buffers;
    private readonly int _mask;
    private byte* _mapping;
    private ushort _publishedTail;
    private int _staged;
    private bool _disposed;

    /// <summary>
    /// Allocates <paramref name="count"/> buffers of <paramref name="bufferSize"/> bytes, registers them with
    /// <paramref name="ring"/> as group <paramref name="groupId"/>, and hands all of them to the kernel
    /// (buffer ids 0..count-1, picked in that order first).
    /// </summary>
    /// <param name="ring">The ring; call on its owner thread.</param>
    /// <param name="groupId">The buffer group id that SQEs name in <c>buf_group</c>; unique per ring.</param>
    /// <param name="count">A power of two, 1..32768.</param>
    /// <param name="bufferSize">Bytes per buffer, at least 1.</param>
    /// <exception cref="System.ComponentModel.Win32Exception">mmap or the registration failed (EEXIST: the group is
    /// taken; EINVAL: the kernel has no buffer rings).</exception>
    internal ProvidedBufferRing(IoUring ring, ushort groupId, int count, int bufferSize)
    {
        ArgumentNullException.ThrowIfNull(ring);
        if (count < 1 || count > Libc.IORING_MAX_PBUF_RING_ENTRIES || !BitOperations.IsPow2(count))
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "A power of two from 1 to 32768.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1);
        _ring = ring;
        GroupId = groupId;
        Count = count;
        BufferSize = bufferSize;
        _mask = count - 1;

        long page = Environment.SystemPageSize;
        long ringBytes = ((count * (long)sizeof(Libc.io_uring_buf)) + page - 1) / page * page;
        _mappingSize = (nuint)(ringBytes + (count * (long)bufferSize));
        // Populated up front: the kernel fills the buffers in turn, so they all become resident soon anyway;
        // a fixed cost paid at the start keeps the loop's memory flat instead of creeping under traffic.
        void* mapping = Libc.mmap(null, _mappingSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_POPULATE, -1, 0);
        if (mapping == Libc.MAP_FAILED)
        {
            Libc.Throw("mmap", Libc.LastErrno);
        }

        _mapping = (byte*)mapping;
        _entries = (Libc.io_uring_buf*)mapping;
        _tail = (ushort*)(_mapping + Libc.IO_URING_BUF_RING_TAIL_OFFSET);
        _buffers = _mapping + ringBytes;

        // The mapping is zeroed, so the tail starts at 0 as io_uring_buf_ring_init would leave it.
        Libc.io_uring_buf_reg registration = default;
        registration.ring_addr = (ulong)_entries;
        registration.ring_entries = (uint)count;
        registration.bgid = groupId;
        int result = ring.Register(Libc.IORING_REGISTER_PBUF_RING, &registration, 1);
        if (result < 0)
        {
            _ = Libc.munmap(_mapping, _mappingSize);
            _mapping = null;
            Libc.Throw($"io_uring_register(IORING_REGISTER_PBUF_RING, group {groupId})", -result);
        }

        for (int i = 0; i < count; i++)
        {
            Recycle((ushort)i);
        }

        PublishRecycled();
    }

    /// <summary>The buffer group id.</summary>
    internal ushort GroupId { get; }

    /// <summary>The number of buffers (and ring entries).</summary>
    internal int Count { get; }

    /// <summary>The size of each buffer in bytes.</summary>
    internal int BufferSize { get; }

    /// <summary>Buffers recycled but not yet published to the kernel.</summary>
    internal int StagedCount => _staged;

    /// <summary>
    /// The first <paramref name="length"/> bytes of buffer <paramref name="bufferId"/> (from a completion:
    /// <see cref="IoUringCompletion.BufferId"/> and <see cref="IoUringCompletion.Result"/>). Valid until the
    /// buffer is recycled.
    /// </summary>
    internal Span<byte> Get(ushort bufferId, int length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(bufferId, Count);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, BufferSize);
        return new Span<byte>(_buffers + ((nint)bufferId * BufferSize), length);
    }

    /// <summary>
    /// Gives buffer <paramref name="bufferId"/> back: writes its ring entry after the ones already staged. The
    /// kernel sees it after <see cref="PublishRecycled"/>. Each buffer the kernel handed out must be recycled
    /// exactly once; recycling one it still holds would let it pick the same memory twice.
    /// </summary>
    /// <exception cref="InvalidOperationException">More buffers staged than exist (a double recycle).</exception>
    internal void Recycle(ushort bufferId)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(bufferId, Count);
        if (_staged == Count)
        {
            throw new InvalidOperationException($"More buffers recycled than the group holds ({Count}): a buffer was recycled twice.");
        }

        // Entries past the published tail are ours: the kernel reads only [head, tail). Fields one by one,
        // never resv: in entry 0 that is the ring's tail.
        Libc.io_uring_buf* entry = _entries + ((_publishedTail + _staged) & _mask);
        entry->addr = (ulong)(_buffers + ((nint)bufferId * BufferSize));
        entry->len = (uint)BufferSize;
        entry->bid = bufferId;
        _staged++;
    }

    /// <summary>
    /// Publishes every staged buffer with one release store of the ring tail. Call it once per batch, e.g. once
    /// per loop turn before <see cref="IoUring.SubmitAndWait"/>; until then the kernel cannot use those buffers.
    /// </summary>
    internal void PublishRecycled()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_staged == 0)
        {
            return;
        }

        _publishedTail = (ushort)(_publishedTail + _staged);
        _staged = 0;
        // Release: the entries written by Recycle are visible before the kernel sees the tail that covers them.
        Volatile.Write(ref *_tail, _publishedTail);
    }

    /// <summary>
    /// Unregisters the group (if the ring is still open) and unmaps the buffers; see the remarks for when the
    /// memory is leaked instead. Safe to call twice.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_ring.IsDisposed)
        {
            if (!_ring.IsOwnerThread)
            {
                return;
            }

            Libc.io_uring_buf_reg registration = default;
            registration.bgid = GroupId;
            if (_ring.Register(Libc.IORING_UNREGISTER_PBUF_RING, &registration, 1) < 0)
            {
                return;
            }
        }

        _ = Libc.munmap(_mapping, _mappingSize);
        _mapping = null;
    }
}
