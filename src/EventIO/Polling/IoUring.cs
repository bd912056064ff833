using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.Versioning;
using System.Text;
using EventIO.Interop;

namespace EventIO.Polling;

/// <summary>
/// One io_uring instance: the ring descriptor, the mapped SQ ring, CQ ring and SQE array, and the
/// three operations an event loop needs — take an SQE (<see cref="GetSqe"/>, filled by
/// <see cref="IoUringPrep"/>), submit and wait in one system call (<see cref="SubmitAndWait"/>), and
/// read completions without allocating (<see cref="TryPeek"/>/<see cref="PeekBatch"/> then <see cref="Advance"/>).
/// </summary>
/// <remarks>
/// <para><b>Threading:</b> single-threaded, and bound to the thread that called <see cref="TryCreate(uint, out IoUring?, out string)"/>.
/// With IORING_SETUP_SINGLE_ISSUER the kernel records that thread as the only submitter (io_uring_enter and
/// io_uring_register from any other thread fail with EEXIST), IORING_SETUP_DEFER_TASKRUN runs completion work
/// only when that thread enters the kernel with GETEVENTS, and the registered ring descriptor is an index in that
/// thread's own io_uring context. So create the ring on the loop thread and use it only there; the
/// methods that enter the kernel check this and throw <see cref="InvalidOperationException"/> otherwise.</para>
/// <para><b>Ownership:</b> the ring owns its descriptor (a <see cref="FileDescriptorHandle"/>) and its three
/// mappings; <see cref="Dispose"/> unmaps them once and closes the descriptor, which makes the kernel cancel
/// whatever is still in flight. Buffers handed to the kernel (send data, msghdrs, provided buffers) must
/// outlive the requests that use them; that is the caller's bookkeeping.</para>
/// <para><b>Errors:</b> setup refusals are values (<see cref="TryCreate(uint, uint, IoUringTaskRun, out IoUring?, out string)"/>
/// returns false with a one-line reason); per-request errors are <c>-errno</c> in completions; exceptions are
/// reserved for broken invariants (wrong thread, use after dispose, an io_uring_enter failure that is not
/// EINTR, ETIME, EAGAIN or EBUSY).</para>
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed unsafe class IoUring : IDisposable
{
    /// <summary>
    /// Features the event-loop backend cannot do without, so <see cref="TryCreate(uint, uint, IoUringTaskRun, out IoUring?, out string)"/>
    /// refuses a kernel lacking any of them: NODROP (a full CQ never loses a completion, 5.5), FAST_POLL (socket
    /// operations wait on internal poll instead of io-wq threads, 5.7) and EXT_ARG (a wait with a timeout in the
    /// same io_uring_enter, 5.11). Multishot accept (5.19), multishot recv/recvmsg and provided-buffer rings (6.0)
    /// have no feature bit; an older kernel fails those requests with -EINVAL in their completion.
    /// </summary>
    internal const uint RequiredFeatures = Libc.IORING_FEAT_NODROP | Libc.IORING_FEAT_FAST_POLL | Libc.IORING_FEAT_EXT_ARG;

    // Indexed by IoUringTaskRun and tried from the chosen one down until one is accepted (an older kernel
    // answers EINVAL to a flag it does not know): DEFER_TASKRUN (6.1) needs SINGLE_ISSUER (6.0);
    // COOP_TASKRUN|TASKRUN_FLAG (5.19); then nothing special. CQSIZE|CLAMP are added to every attempt.
    private static readonly uint[] s_setupAttempts =
    [
        Libc.IORING_SETUP_SINGLE_ISSUER | Libc.IORING_SETUP_DEFER_TASKRUN | Libc.IORING_SETUP_SUBMIT_ALL,
        Libc.IORING_SETUP_COOP_TASKRUN | Libc.IORING_SETUP_TASKRUN_FLAG | Libc.IORING_SETUP_SUBMIT_ALL,
        0,
    ];

    private readonly FileDescriptorHandle _ring;
    private readonly int _ownerThreadId;
    private readonly int _enterFd;
    private readonly uint _enterFlags;
    private readonly int _registeredIndex;
    private readonly ulong[] _supportedOps = new ulong[4];

    private readonly nuint _sqRingSize;
    private readonly nuint _cqRingSize;
    private readonly nuint _sqesSize;
    private readonly uint* _sqHead;
    private readonly uint* _sqTail;
    private readonly uint* _sqFlags;
    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint* _cqOverflow;
    private readonly Libc.io_uring_cqe* _cqes;
    private readonly uint _sqMask;
    private readonly uint _cqMask;
    private byte* _sqRing;
    private byte* _cqRing;
    private Libc.io_uring_sqe* _sqes;

    private uint _sqeTail;     // SQEs handed out by GetSqe; published to *_sqTail when submitting
    private uint _cqHeadLocal; // completions consumed; published to *_cqHead by Advance
    private int _disposed;

    private IoUring(FileDescriptorHandle ring, in Libc.io_uring_params p, byte* sqRing, nuint sqRingSize, byte* cqRing, nuint cqRingSize, Libc.io_uring_sqe* sqes, nuint sqesSize)
    {
        _ring = ring;
        _ownerThreadId = Environment.CurrentManagedThreadId;
        _sqRing = sqRing;
        _sqRingSize = sqRingSize;
        _cqRing = cqRing;
        _cqRingSize = cqRingSize;
        _sqes = sqes;
        _sqesSize = sqesSize;
        SetupFlags = p.flags;
        Features = p.features;
        SqEntries = p.sq_entries;
        CqEntries = p.cq_entries;

        _sqHead = (uint*)(sqRing + p.sq_off.head);
        _sqTail = (uint*)(sqRing + p.sq_off.tail);
        _sqFlags = (uint*)(sqRing + p.sq_off.flags);
        _sqMask = *(uint*)(sqRing + p.sq_off.ring_mask);
        _cqHead = (uint*)(cqRing + p.cq_off.head);
        _cqTail = (uint*)(cqRing + p.cq_off.tail);
        _cqOverflow = (uint*)(cqRing + p.cq_off.overflow);
        _cqes = (Libc.io_uring_cqe*)(cqRing + p.cq_off.cqes);
        _cqMask = *(uint*)(cqRing + p.cq_off.ring_mask);
        _sqeTail = *_sqTail;
        _cqHeadLocal = *_cqHead;

        // The SQ array indirects ring slots to SQEs; map slot i to SQE i once, as liburing does.
        uint* array = (uint*)(sqRing + p.sq_off.array);
        for (uint i = 0; i < p.sq_entries; i++)
        {
            array[i] = i;
        }

        // Registering the ring descriptor in this thread's io_uring context saves an fdget/fdput per enter.
        Libc.io_uring_rsrc_update update = new() { offset = uint.MaxValue, data = (ulong)ring.Descriptor };
        if (Libc.io_uring_register(ring.Descriptor, Libc.IORING_REGISTER_RING_FDS, &update, 1) == 1)
        {
            _registeredIndex = (int)update.offset;
            _enterFd = (int)update.offset;
            _enterFlags = Libc.IORING_ENTER_REGISTERED_RING;
        }
        else
        {
            _registeredIndex = -1;
            _enterFd = ring.Descriptor;
            _enterFlags = 0;
        }

        Probed = Probe(ring.Descriptor, _supportedOps);
    }

    /// <summary>The IORING_SETUP_* flags the kernel accepted (see <see cref="FormatSetupFlags"/>).</summary>
    internal uint SetupFlags { get; }

    /// <summary>The IORING_FEAT_* bits the kernel reported.</summary>
    internal uint Features { get; }

    /// <summary>SQ size: the number of SQEs that can be queued before a submit (a power of two).</summary>
    internal uint SqEntries { get; }

    /// <summary>CQ size: completions the CQ holds before the kernel queues further ones on its overflow list.</summary>
    internal uint CqEntries { get; }

    /// <summary>True when the ring descriptor is registered (IORING_REGISTER_RING_FDS) and enters use IORING_ENTER_REGISTERED_RING.</summary>
    internal bool RingFdRegistered => _registeredIndex >= 0;

    /// <summary>True when IORING_REGISTER_PROBE answered, so <see cref="SupportsOpcode"/> is meaningful.</summary>
    internal bool Probed { get; }

    /// <summary>True after <see cref="Dispose"/>.</summary>
    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>True on the thread that created the ring, the only one allowed to submit, wait or register.</summary>
    internal bool IsOwnerThread => Environment.CurrentManagedThreadId == _ownerThreadId;

    /// <summary>SQEs taken with <see cref="GetSqe"/> that the kernel has not consumed yet.</summary>
    internal int PendingSubmissions
    {
        get
        {
            ThrowIfDisposed();
            // Atomic read of the kernel-written head; it only moves during our own io_uring_enter.
            return (int)(_sqeTail - Volatile.Read(ref *_sqHead));
        }
    }

    /// <summary>Completions in the CQ not yet consumed with <see cref="Advance"/>.</summary>
    internal int CompletionsReady
    {
        get
        {
            ThrowIfDisposed();
            // Acquire: pairs with the kernel's release store of the CQ tail.
            return (int)(Volatile.Read(ref *_cqTail) - _cqHeadLocal);
        }
    }

    /// <summary>
    /// True when completions are waiting in the kernel rather than in the CQ: IORING_SQ_CQ_OVERFLOW (the CQ
    /// was full; with NODROP the surplus sits on the kernel's overflow list) or IORING_SQ_TASKRUN (with
    /// COOP_TASKRUN|TASKRUN_FLAG, task work must run to post them). Either way: consume what the CQ holds,
    /// then call <c>SubmitAndWait(0, 0)</c>, which enters with GETEVENTS and moves them into the CQ.
    /// Under DEFER_TASKRUN nothing is posted outside an enter with GETEVENTS, so only the overflow bit applies.
    /// </summary>
    internal bool CqNeedsFlush
    {
        get
        {
            ThrowIfDisposed();
            // The kernel sets and clears these bits atomically; one atomic read.
            return (Volatile.Read(ref *_sqFlags) & (Libc.IORING_SQ_CQ_OVERFLOW | Libc.IORING_SQ_TASKRUN)) != 0;
        }
    }

    /// <summary>
    /// The kernel's count of completions it dropped (<c>cq_ring->overflow</c>). With IORING_FEAT_NODROP it
    /// stays 0 unless the kernel could not allocate an overflow entry; then <see cref="SubmitAndWait"/> throws (EBADR).
    /// </summary>
    internal uint DroppedCompletions
    {
        get
        {
            ThrowIfDisposed();
            return Volatile.Read(ref *_cqOverflow);
        }
    }

    /// <summary>The ring descriptor (for io_uring_register and for mmap of kernel-allocated regions).</summary>
    internal int Descriptor => _ring.Descriptor;

    /// <summary>Creates a ring with <paramref name="entries"/> SQEs and a CQ four times as large.</summary>
    /// <inheritdoc cref="TryCreate(uint, uint, IoUringTaskRun, out IoUring?, out string)"/>
    internal static bool TryCreate(uint entries, [NotNullWhen(true)] out IoUring? ring, out string reason)
        => TryCreate(entries, Math.Min(entries * 4, 2 * Libc.IORING_MAX_ENTRIES), IoUringTaskRun.Deferred, out ring, out reason);

    /// <summary>Creates a ring with <paramref name="entries"/> SQEs and <paramref name="cqEntries"/> CQEs.</summary>
    /// <inheritdoc cref="TryCreate(uint, uint, IoUringTaskRun, out IoUring?, out string)"/>
    internal static bool TryCreate(uint entries, uint cqEntries, [NotNullWhen(true)] out IoUring? ring, out string reason)
        => TryCreate(entries, cqEntries, IoUringTaskRun.Deferred, out ring, out reason);

    /// <summary>
    /// Creates a ring bound to the calling thread (see the type's remarks), trying
    /// SINGLE_ISSUER|DEFER_TASKRUN|SUBMIT_ALL first, then COOP_TASKRUN|TASKRUN_FLAG|SUBMIT_ALL, then no
    /// special flag (each with CQSIZE|CLAMP; <paramref name="taskRun"/> chooses where to start), and refusing a
    /// kernel without <see cref="RequiredFeatures"/>. <see cref="SetupFlags"/> says which was accepted.
    /// </summary>
    /// <param name="entries">SQ size, 1..32768; the kernel rounds it up to a power of two.</param>
    /// <param name="cqEntries">CQ size, <paramref name="entries"/>..65536; rounded up to a power of two.</param>
    /// <param name="taskRun">The first setup to try; <see cref="IoUringTaskRun.Deferred"/> unless testing the others.</param>
    /// <param name="ring">The ring, or null when refused.</param>
    /// <param name="reason">Empty on success; otherwise one line for a log, e.g.
    /// "io_uring_setup: operation not permitted (seccomp filter, or sysctl kernel.io_uring_disabled)".</param>
    /// <returns>False when the kernel refuses io_uring (ENOSYS, EPERM: seccomp in containers, the sysctl),
    /// lacks a required feature, or setup or mapping fails for lack of memory or descriptors.</returns>
    internal static bool TryCreate(uint entries, uint cqEntries, IoUringTaskRun taskRun, [NotNullWhen(true)] out IoUring? ring, out string reason)
    {
        ArgumentOutOfRangeException.ThrowIfZero(entries);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)taskRun, (uint)IoUringTaskRun.Plain, nameof(taskRun));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(entries, Libc.IORING_MAX_ENTRIES);
        ArgumentOutOfRangeException.ThrowIfLessThan(cqEntries, entries);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(cqEntries, 2 * Libc.IORING_MAX_ENTRIES);
        ring = null;

        Libc.io_uring_params p = default;
        int fd = -1;
        int errno = 0;
        foreach (uint attempt in s_setupAttempts.AsSpan((int)taskRun))
        {
            p = default;
            p.flags = attempt | Libc.IORING_SETUP_CQSIZE | Libc.IORING_SETUP_CLAMP;
            p.cq_entries = cqEntries;
            fd = Libc.io_uring_setup(entries, &p);
            if (fd >= 0)
            {
                break;
            }

            errno = Libc.LastErrno;
            if (errno != Libc.EINVAL)
            {
                break;
            }
        }

        if (fd < 0)
        {
            reason = DescribeSetupFailure(errno);
            return false;
        }

        var handle = new FileDescriptorHandle(fd);
        uint missing = RequiredFeatures & ~p.features;
        if (missing != 0)
        {
            handle.Dispose();
            reason = $"io_uring: the kernel lacks {FormatFeatures(missing)} (needs Linux 5.11 or later)";
            return false;
        }

        // With FEAT_SINGLE_MMAP (5.4) one mapping at IORING_OFF_SQ_RING holds both rings; size it for the larger.
        nuint sqRingSize = p.sq_off.array + (p.sq_entries * (nuint)sizeof(uint));
        nuint cqRingSize = p.cq_off.cqes + (p.cq_entries * (nuint)sizeof(Libc.io_uring_cqe));
        bool single = (p.features & Libc.IORING_FEAT_SINGLE_MMAP) != 0;
        if (single)
        {
            sqRingSize = cqRingSize = Math.Max(sqRingSize, cqRingSize);
        }

        nuint sqesSize = p.sq_entries * (nuint)sizeof(Libc.io_uring_sqe);
        byte* sqRing = Map(fd, sqRingSize, Libc.IORING_OFF_SQ_RING, out errno);
        byte* cqRing = sqRing == null || single ? sqRing : Map(fd, cqRingSize, Libc.IORING_OFF_CQ_RING, out errno);
        byte* sqes = cqRing == null ? null : Map(fd, sqesSize, Libc.IORING_OFF_SQES, out errno);
        if (sqes == null)
        {
            if (cqRing != null && cqRing != sqRing)
            {
                _ = Libc.munmap(cqRing, cqRingSize);
            }

            if (sqRing != null)
            {
                _ = Libc.munmap(sqRing, sqRingSize);
            }

            handle.Dispose();
            reason = $"io_uring: mmap of the rings failed: {new Win32Exception(errno).Message} (errno {errno})";
            return false;
        }

        ring = new IoUring(handle, p, sqRing, sqRingSize, cqRing, cqRingSize, (Libc.io_uring_sqe*)sqes, sqesSize);
        reason = "";
        return true;
    }

    /// <summary>"SINGLE_ISSUER|DEFER_TASKRUN|..." for a log line.</summary>
    internal static string FormatSetupFlags(uint flags)
    {
        var text = new StringBuilder();
        Append(text, flags, Libc.IORING_SETUP_CQSIZE, "CQSIZE");
        Append(text, flags, Libc.IORING_SETUP_CLAMP, "CLAMP");
        Append(text, flags, Libc.IORING_SETUP_SUBMIT_ALL, "SUBMIT_ALL");
        Append(text, flags, Libc.IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN");
        Append(text, flags, Libc.IORING_SETUP_TASKRUN_FLAG, "TASKRUN_FLAG");
        Append(text, flags, Libc.IORING_SETUP_SINGLE_ISSUER, "SINGLE_ISSUER");
        Append(text, flags, Libc.IORING_SETUP_DEFER_TASKRUN, "DEFER_TASKRUN");
        uint known = Libc.IORING_SETUP_CQSIZE | Libc.IORING_SETUP_CLAMP | Libc.IORING_SETUP_SUBMIT_ALL | Libc.IORING_SETUP_COOP_TASKRUN
            | Libc.IORING_SETUP_TASKRUN_FLAG | Libc.IORING_SETUP_SINGLE_ISSUER | Libc.IORING_SETUP_DEFER_TASKRUN;
        if ((flags & ~known) != 0)
        {
            text.Append(text.Length == 0 ? "" : "|").Append("0x").Append((flags & ~known).ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        }

        return text.Length == 0 ? "none" : text.ToString();
    }

    /// <summary>"NODROP|FAST_POLL|..." for the feature bits EventIO knows by name.</summary>
    internal static string FormatFeatures(uint features)
    {
        var text = new StringBuilder();
        Append(text, features, Libc.IORING_FEAT_SINGLE_MMAP, "SINGLE_MMAP");
        Append(text, features, Libc.IORING_FEAT_NODROP, "NODROP");
        Append(text, features, Libc.IORING_FEAT_SUBMIT_STABLE, "SUBMIT_STABLE");
        Append(text, features, Libc.IORING_FEAT_RW_CUR_POS, "RW_CUR_POS");
        Append(text, features, Libc.IORING_FEAT_CUR_PERSONALITY, "CUR_PERSONALITY");
        Append(text, features, Libc.IORING_FEAT_FAST_POLL, "FAST_POLL");
        Append(text, features, Libc.IORING_FEAT_POLL_32BITS, "POLL_32BITS");
        Append(text, features, Libc.IORING_FEAT_SQPOLL_NONFIXED, "SQPOLL_NONFIXED");
        Append(text, features, Libc.IORING_FEAT_EXT_ARG, "EXT_ARG");
        Append(text, features, Libc.IORING_FEAT_NATIVE_WORKERS, "NATIVE_WORKERS");
        Append(text, features, Libc.IORING_FEAT_RSRC_TAGS, "RSRC_TAGS");
        Append(text, features, Libc.IORING_FEAT_CQE_SKIP, "CQE_SKIP");
        Append(text, features, Libc.IORING_FEAT_LINKED_FILE, "LINKED_FILE");
        Append(text, features, Libc.IORING_FEAT_REG_REG_RING, "REG_REG_RING");
        Append(text, features, Libc.IORING_FEAT_RECVSEND_BUNDLE, "RECVSEND_BUNDLE");
        Append(text, features, Libc.IORING_FEAT_MIN_TIMEOUT, "MIN_TIMEOUT");
        return text.Length == 0 ? "none" : text.ToString();
    }

    /// <summary>One line for a log: sizes, setup flags, ring registration.</summary>
    internal string Describe()
        => $"io_uring: sq {SqEntries}, cq {CqEntries}, setup {FormatSetupFlags(SetupFlags)}, ring fd {(RingFdRegistered ? "registered" : "not registered")}";

    /// <summary>True when IORING_REGISTER_PROBE reported <paramref name="opcode"/> as supported (false when not probed).</summary>
    internal bool SupportsOpcode(byte opcode) => (_supportedOps[opcode >> 6] & (1UL << (opcode & 63))) != 0;

    /// <summary>
    /// Returns the next free SQE, zeroed, for an <see cref="IoUringPrep"/> helper to fill; it is submitted by the
    /// next <see cref="SubmitAndWait"/>. When the SQ is full, first hands the queued SQEs to the kernel with one
    /// io_uring_enter that does not wait. The reference is valid until that submission; do not keep it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The SQ is full and the kernel took none of it (EAGAIN/EBUSY:
    /// out of request memory), or called from a thread other than the creator.</exception>
    internal ref Libc.io_uring_sqe GetSqe()
    {
        ThrowIfDisposed();
        // Atomic read of the kernel-written head (no acquire needed: without SQPOLL it moves only in our enter).
        if (_sqeTail - Volatile.Read(ref *_sqHead) >= SqEntries)
        {
            SubmitFullQueue();
        }

        Libc.io_uring_sqe* sqe = _sqes + (_sqeTail & _sqMask);
        _sqeTail++;
        *sqe = default;
        return ref *sqe;
    }

    /// <summary>
    /// One io_uring_enter: submits every SQE taken since the last call and, unless <paramref name="minComplete"/>
    /// or <paramref name="timeoutMs"/> is 0, waits until the CQ holds at least <paramref name="minComplete"/>
    /// completions or the timeout passes. Always enters with GETEVENTS, so deferred task work runs (DEFER_TASKRUN,
    /// COOP_TASKRUN) and overflowed completions move into the CQ as space allows.
    /// </summary>
    /// <param name="minComplete">Completions to wait for; 0 submits and returns at once.</param>
    /// <param name="timeoutMs">-1: no limit; 0: do not wait; otherwise the limit in milliseconds (EXT_ARG timespec).</param>
    /// <returns>
    /// The number of SQEs the kernel consumed (when fewer than were queued, it did not wait; the rest stay queued
    /// for the next call). 0 also covers the non-errors: EINTR (a signal; call again), ETIME
    /// (the timeout passed), and EAGAIN/EBUSY (the kernel could not take new requests now, e.g. short of memory;
    /// the SQEs stay queued: consume completions, then call again).
    /// </returns>
    /// <exception cref="InvalidOperationException">Called from a thread other than the creator.</exception>
    /// <exception cref="Win32Exception">Any other failure, including EBADR (completions were dropped).</exception>
    internal int SubmitAndWait(int minComplete, int timeoutMs)
    {
        ThrowIfDisposed();
        ThrowIfNotOwnerThread();
        ArgumentOutOfRangeException.ThrowIfNegative(minComplete);
        ArgumentOutOfRangeException.ThrowIfLessThan(timeoutMs, -1);

        uint toSubmit = PublishSubmissions();
        uint wait = timeoutMs == 0 ? 0u : (uint)minComplete;
        Libc.__kernel_timespec timeout = default;
        Libc.io_uring_getevents_arg arg = default;
        if (wait > 0 && timeoutMs > 0)
        {
            timeout.tv_sec = timeoutMs / 1000;
            timeout.tv_nsec = timeoutMs % 1000 * 1_000_000L;
            arg.ts = (ulong)&timeout;
        }

        int n = Libc.io_uring_enter(_enterFd, toSubmit, wait, _enterFlags | Libc.IORING_ENTER_GETEVENTS | Libc.IORING_ENTER_EXT_ARG, &arg, (nuint)sizeof(Libc.io_uring_getevents_arg));
        if (n >= 0)
        {
            return n;
        }

        int errno = Libc.LastErrno;
        if (errno is Libc.EINTR or Libc.ETIME or Libc.EAGAIN or Libc.EBUSY)
        {
            return 0;
        }

        if (errno == Libc.EEXIST)
        {
            throw new InvalidOperationException("io_uring_enter refused with EEXIST: this thread is not the ring's single issuer.");
        }

        if (errno == Libc.EBADR)
        {
            throw new Win32Exception(errno, $"io_uring_enter: the kernel dropped {DroppedCompletions} completion(s) (no memory for its overflow list); requests may never complete.");
        }

        Libc.Throw("io_uring_enter", errno);
        return 0;
    }

    /// <summary>
    /// Copies the oldest unconsumed completion into <paramref name="completion"/> without consuming it;
    /// consume it with <c>Advance(1)</c>. Reads shared memory only: no system call, no allocation.
    /// </summary>
    /// <returns>False when the CQ is empty (see <see cref="CqNeedsFlush"/> for completions still in the kernel).</returns>
    internal bool TryPeek(out IoUringCompletion completion)
    {
        ThrowIfDisposed();
        // Acquire: pairs with the kernel's release of the CQ tail, so the CQE read below is complete.
        if (Volatile.Read(ref *_cqTail) == _cqHeadLocal)
        {
            completion = default;
            return false;
        }

        Libc.io_uring_cqe* cqe = _cqes + (_cqHeadLocal & _cqMask);
        completion = new IoUringCompletion(cqe->user_data, cqe->res, cqe->flags);
        return true;
    }

    /// <summary>
    /// Copies up to <c>destination.Length</c> unconsumed completions, oldest first, without consuming them;
    /// consume them with <c>Advance(count)</c> (one head store for the whole batch).
    /// </summary>
    /// <returns>The number copied.</returns>
    internal int PeekBatch(Span<IoUringCompletion> destination)
    {
        ThrowIfDisposed();
        // Acquire: pairs with the kernel's release of the CQ tail, so every CQE before it is complete.
        uint ready = Volatile.Read(ref *_cqTail) - _cqHeadLocal;
        int count = (int)Math.Min(ready, (uint)destination.Length);
        for (int i = 0; i < count; i++)
        {
            Libc.io_uring_cqe* cqe = _cqes + ((_cqHeadLocal + (uint)i) & _cqMask);
            destination[i] = new IoUringCompletion(cqe->user_data, cqe->res, cqe->flags);
        }

        return count;
    }

    /// <summary>Consumes <paramref name="count"/> completions, returning their slots to the kernel.</summary>
    /// <exception cref="ArgumentOutOfRangeException">More than <see cref="CompletionsReady"/>.</exception>
    internal void Advance(int count)
    {
        ThrowIfDisposed();
        // Acquire read of the tail, only to validate the count.
        if ((uint)count > Volatile.Read(ref *_cqTail) - _cqHeadLocal)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "More completions than the CQ holds.");
        }

        if (count == 0)
        {
            return;
        }

        _cqHeadLocal += (uint)count;
        // Release: our reads of the consumed CQEs happen before the kernel may reuse their slots.
        Volatile.Write(ref *_cqHead, _cqHeadLocal);
    }

    /// <summary>
    /// io_uring_register on this ring, for helpers such as <see cref="ProvidedBufferRing"/>.
    /// </summary>
    /// <returns>The call's non-negative result, or <c>-errno</c>.</returns>
    /// <exception cref="InvalidOperationException">Called from a thread other than the creator.</exception>
    internal int Register(uint opcode, void* arg, uint count)
    {
        ThrowIfDisposed();
        ThrowIfNotOwnerThread();
        int result = Libc.io_uring_register(_ring.Descriptor, opcode, arg, count);
        return result >= 0 ? result : -Libc.LastErrno;
    }

    /// <summary>
    /// Unregisters the ring descriptor, unmaps the rings and closes the descriptor; the kernel then cancels the
    /// requests still in flight. Safe to call twice. Call it on the creating thread: from another thread the
    /// registered descriptor cannot be released (it lives in the creator's io_uring context), so the kernel keeps
    /// the ring alive until that thread exits.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_registeredIndex >= 0 && IsOwnerThread)
        {
            Libc.io_uring_rsrc_update update = new() { offset = (uint)_registeredIndex };
            _ = Libc.io_uring_register(_ring.Descriptor, Libc.IORING_UNREGISTER_RING_FDS, &update, 1);
        }

        _ = Libc.munmap(_sqes, _sqesSize);
        _sqes = null;
        if (_cqRing != _sqRing)
        {
            _ = Libc.munmap(_cqRing, _cqRingSize);
        }

        _cqRing = null;
        _ = Libc.munmap(_sqRing, _sqRingSize);
        _sqRing = null;
        _ring.Dispose();
    }

    // Release-publishes the SQ tail; returns how many SQEs the kernel has not consumed yet.
    private uint PublishSubmissions()
    {
        // Release: the SQE contents written by the prep helpers are visible before the kernel sees the new tail.
        Volatile.Write(ref *_sqTail, _sqeTail);
        return _sqeTail - Volatile.Read(ref *_sqHead);
    }

    // The SQ is full: one io_uring_enter that submits without waiting (no GETEVENTS).
    private void SubmitFullQueue()
    {
        ThrowIfNotOwnerThread();
        uint toSubmit = PublishSubmissions();
        int n;
        do
        {
            n = Libc.io_uring_enter(_enterFd, toSubmit, 0, _enterFlags, null, 0);
        }
        while (n < 0 && Libc.LastErrno == Libc.EINTR);

        if (n < 0)
        {
            int errno = Libc.LastErrno;
            if (errno is Libc.EAGAIN or Libc.EBUSY)
            {
                throw new InvalidOperationException($"The io_uring SQ is full and the kernel takes no more now ({new Win32Exception(errno).Message}); consume completions and retry.");
            }

            Libc.Throw("io_uring_enter", errno);
        }

        if (_sqeTail - Volatile.Read(ref *_sqHead) >= SqEntries)
        {
            throw new InvalidOperationException("The io_uring SQ is full and the kernel consumed none of it.");
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    private void ThrowIfNotOwnerThread()
    {
        if (Environment.CurrentManagedThreadId != _ownerThreadId)
        {
            throw new InvalidOperationException("An io_uring is used only on the thread that created it (single issuer, registered ring descriptor).");
        }
    }

    private static byte* Map(int fd, nuint size, long offset, out int errno)
    {
        void* p = Libc.mmap(null, size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED | Libc.MAP_POPULATE, fd, offset);
        if (p == Libc.MAP_FAILED)
        {
            errno = Libc.LastErrno;
            return null;
        }

        errno = 0;
        return (byte*)p;
    }

    // Fills the 256-bit opcode set from IORING_REGISTER_PROBE; false when the kernel does not answer (before 5.6).
    private static bool Probe(int fd, ulong[] supported)
    {
        const int MaxOps = 256;
        int size = sizeof(Libc.io_uring_probe) + (MaxOps * sizeof(Libc.io_uring_probe_op));
        byte* buffer = stackalloc byte[size];
        new Span<byte>(buffer, size).Clear();
        if (Libc.io_uring_register(fd, Libc.IORING_REGISTER_PROBE, buffer, MaxOps) < 0)
        {
            return false;
        }

        var probe = (Libc.io_uring_probe*)buffer;
        var ops = (Libc.io_uring_probe_op*)(buffer + sizeof(Libc.io_uring_probe));
        for (int i = 0; i < probe->ops_len; i++)
        {
            if ((ops[i].flags & Libc.IO_URING_OP_SUPPORTED) != 0)
            {
                supported[ops[i].op >> 6] |= 1UL << (ops[i].op & 63);
            }
        }

        return true;
    }

    /// <summary>The one-line reason <see cref="TryCreate(uint, uint, IoUringTaskRun, out IoUring?, out string)"/> gives for a refused io_uring_setup.</summary>
    internal static string DescribeSetupFailure(int errno) => errno switch
    {
        Libc.ENOSYS => "io_uring_setup: function not implemented (kernel built without io_uring, or a seccomp filter answering ENOSYS)",
        Libc.EPERM => "io_uring_setup: operation not permitted (seccomp filter, e.g. a container's default profile, or sysctl kernel.io_uring_disabled)",
        Libc.ENOMEM => "io_uring_setup: out of memory (or RLIMIT_MEMLOCK too low on kernels before 5.12)",
        Libc.EINVAL => "io_uring_setup: invalid argument for every flag set tried (kernel older than 5.6?)",
        _ => $"io_uring_setup: {new Win32Exception(errno).Message} (errno {errno})",
    };

    private static void Append(StringBuilder text, uint flags, uint bit, string name)
    {
        if ((flags & bit) != 0)
        {
            text.Append(text.Length == 0 ? "" : "|").Append(name);
        }
    }
}
