using System.Runtime.InteropServices;

namespace EventIO.Interop;

/// <summary>
/// io_uring(7) from the kernel's uapi header <c>linux/io_uring.h</c> (as liburing ships it): the three
/// system calls, the shared-ring structures with their exact layouts, and the constants EventIO uses.
/// Layouts are the same on every 64-bit little-endian architecture (x86-64 and arm64 here).
/// </summary>
internal static partial class Libc
{
    // System call numbers. io_uring arrived after the syscall tables were unified (Linux 5.1), so
    // x86-64 and arm64 (asm-generic) use the same numbers: 425, 426, 427.
    internal const long SYS_io_uring_setup = 425;
    internal const long SYS_io_uring_enter = 426;
    internal const long SYS_io_uring_register = 427;

    // io_uring_setup(2) flags (io_uring_params.flags).
    internal const uint IORING_SETUP_CQSIZE = 1U << 3;
    internal const uint IORING_SETUP_CLAMP = 1U << 4;
    internal const uint IORING_SETUP_SUBMIT_ALL = 1U << 7;
    internal const uint IORING_SETUP_COOP_TASKRUN = 1U << 8;
    internal const uint IORING_SETUP_TASKRUN_FLAG = 1U << 9;
    internal const uint IORING_SETUP_SINGLE_ISSUER = 1U << 12;
    internal const uint IORING_SETUP_DEFER_TASKRUN = 1U << 13;

    // io_uring_params.features.
    internal const uint IORING_FEAT_SINGLE_MMAP = 1U << 0;
    internal const uint IORING_FEAT_NODROP = 1U << 1;
    internal const uint IORING_FEAT_SUBMIT_STABLE = 1U << 2;
    internal const uint IORING_FEAT_RW_CUR_POS = 1U << 3;
    internal const uint IORING_FEAT_CUR_PERSONALITY = 1U << 4;
    internal const uint IORING_FEAT_FAST_POLL = 1U << 5;
    internal const uint IORING_FEAT_POLL_32BITS = 1U << 6;
    internal const uint IORING_FEAT_SQPOLL_NONFIXED = 1U << 7;
    internal const uint IORING_FEAT_EXT_ARG = 1U << 8;
    internal const uint IORING_FEAT_NATIVE_WORKERS = 1U << 9;
    internal const uint IORING_FEAT_RSRC_TAGS = 1U << 10;
    internal const uint IORING_FEAT_CQE_SKIP = 1U << 11;
    internal const uint IORING_FEAT_LINKED_FILE = 1U << 12;
    internal const uint IORING_FEAT_REG_REG_RING = 1U << 13;
    internal const uint IORING_FEAT_RECVSEND_BUNDLE = 1U << 14;
    internal const uint IORING_FEAT_MIN_TIMEOUT = 1U << 15;

    // io_uring_enter(2) flags.
    internal const uint IORING_ENTER_GETEVENTS = 1U << 0;
    internal const uint IORING_ENTER_EXT_ARG = 1U << 3;
    internal const uint IORING_ENTER_REGISTERED_RING = 1U << 4;

    // sq_ring->flags, written by the kernel (IORING_SQ_NEED_WAKEUP, bit 0, is for SQPOLL only).
    internal const uint IORING_SQ_CQ_OVERFLOW = 1U << 1;
    internal const uint IORING_SQ_TASKRUN = 1U << 2;

    // Magic mmap(2) offsets on the ring descriptor.
    internal const long IORING_OFF_SQ_RING = 0;
    internal const long IORING_OFF_CQ_RING = 0x8000000;
    internal const long IORING_OFF_SQES = 0x10000000;

    // enum io_uring_op: the opcodes EventIO issues.
    internal const byte IORING_OP_NOP = 0;
    internal const byte IORING_OP_POLL_ADD = 6;
    internal const byte IORING_OP_POLL_REMOVE = 7;
    internal const byte IORING_OP_SENDMSG = 9;
    internal const byte IORING_OP_RECVMSG = 10;
    internal const byte IORING_OP_ACCEPT = 13;
    internal const byte IORING_OP_ASYNC_CANCEL = 14;
    internal const byte IORING_OP_READ = 22;
    internal const byte IORING_OP_SEND = 26;
    internal const byte IORING_OP_RECV = 27;

    // io_uring_sqe.flags.
    internal const byte IOSQE_FIXED_FILE = 1 << 0;
    internal const byte IOSQE_IO_DRAIN = 1 << 1;
    internal const byte IOSQE_IO_LINK = 1 << 2;
    internal const byte IOSQE_IO_HARDLINK = 1 << 3;
    internal const byte IOSQE_ASYNC = 1 << 4;
    internal const byte IOSQE_BUFFER_SELECT = 1 << 5;
    internal const byte IOSQE_CQE_SKIP_SUCCESS = 1 << 6;

    /// <summary>POLL_ADD command flags, stored in <c>sqe.len</c> (the event mask lives in <c>poll32_events</c>).</summary>
    internal const uint IORING_POLL_ADD_MULTI = 1U << 0;

    // ASYNC_CANCEL flags (sqe.cancel_flags).
    internal const uint IORING_ASYNC_CANCEL_ALL = 1U << 0;
    internal const uint IORING_ASYNC_CANCEL_FD = 1U << 1;

    /// <summary>Multishot recv/recvmsg, stored in <c>sqe.ioprio</c>.</summary>
    internal const ushort IORING_RECV_MULTISHOT = 1 << 1;

    /// <summary>Accept flag, stored in <c>sqe.ioprio</c>.</summary>
    internal const ushort IORING_ACCEPT_MULTISHOT = 1 << 0;

    // io_uring_cqe.flags.
    internal const uint IORING_CQE_F_BUFFER = 1U << 0;
    internal const uint IORING_CQE_F_MORE = 1U << 1;
    internal const uint IORING_CQE_F_SOCK_NONEMPTY = 1U << 2;
    internal const int IORING_CQE_BUFFER_SHIFT = 16;

    // enum io_uring_register_op.
    internal const uint IORING_REGISTER_PROBE = 8;
    internal const uint IORING_REGISTER_RING_FDS = 20;
    internal const uint IORING_UNREGISTER_RING_FDS = 21;
    internal const uint IORING_REGISTER_PBUF_RING = 22;
    internal const uint IORING_UNREGISTER_PBUF_RING = 23;

    /// <summary><c>io_uring_probe_op.flags</c>: the opcode is supported.</summary>
    internal const ushort IO_URING_OP_SUPPORTED = 1 << 0;

    /// <summary>The largest SQ a ring may have (KERN_MAX_ENTRIES); the CQ may be twice that.</summary>
    internal const uint IORING_MAX_ENTRIES = 32768;

    /// <summary>The largest provided-buffer ring (entries are indexed by a 16-bit tail).</summary>
    internal const uint IORING_MAX_PBUF_RING_ENTRIES = 32768;

    /// <summary><c>struct io_sqring_offsets</c>: where the SQ ring fields sit in the SQ mapping (40 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct io_sqring_offsets
    {
        internal uint head;
        internal uint tail;
        internal uint ring_mask;
        internal uint ring_entries;
        internal uint flags;
        internal uint dropped;
        internal uint array;
        internal uint resv1;
        internal ulong user_addr;
    }

    /// <summary><c>struct io_cqring_offsets</c>: where the CQ ring fields sit in the CQ mapping (40 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct io_cqring_offsets
    {
        internal uint head;
        internal uint tail;
        internal uint ring_mask;
        internal uint ring_entries;
        internal uint overflow;
        internal uint cqes;
        internal uint flags;
        internal uint resv1;
        internal ulong user_addr;
    }

    /// <summary><c>struct io_uring_params</c>: passed to io_uring_setup and filled in by it (120 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct io_uring_params
    {
        internal uint sq_entries;
        internal uint cq_entries;
        internal uint flags;
        internal uint sq_thread_cpu;
        internal uint sq_thread_idle;
        internal uint features;
        internal uint wq_fd;
        internal fixed uint resv[3];
        internal io_sqring_offsets sq_off;
        internal io_cqring_offsets cq_off;
    }

    /// <summary>
    /// <c>struct io_uring_sqe</c>: one submission (64 bytes). The C unions are overlapping fields here;
    /// only the members EventIO writes are named (all share the offsets the header gives them).
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 64)]
    internal struct io_uring_sqe
    {
        [FieldOffset(0)] internal byte opcode;
        [FieldOffset(1)] internal byte flags;
        [FieldOffset(2)] internal ushort ioprio;
        [FieldOffset(4)] internal int fd;
        [FieldOffset(8)] internal ulong off;
        [FieldOffset(8)] internal ulong addr2;
        [FieldOffset(16)] internal ulong addr;
        [FieldOffset(24)] internal uint len;
        [FieldOffset(28)] internal uint rw_flags;
        [FieldOffset(28)] internal uint poll32_events;
        [FieldOffset(28)] internal uint msg_flags;
        [FieldOffset(28)] internal uint accept_flags;
        [FieldOffset(28)] internal uint cancel_flags;
        [FieldOffset(32)] internal ulong user_data;
        [FieldOffset(40)] internal ushort buf_index;
        [FieldOffset(40)] internal ushort buf_group;
        [FieldOffset(42)] internal ushort personality;
        [FieldOffset(44)] internal int splice_fd_in;
        [FieldOffset(44)] internal uint file_index;
        [FieldOffset(48)] internal ulong addr3;
        [FieldOffset(56)] internal ulong __pad2;
    }

    /// <summary><c>struct io_uring_cqe</c>: one completion (16 bytes; EventIO never sets up CQE32).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct io_uring_cqe
    {
        internal ulong user_data;
        internal int res;
        internal uint flags;
    }

    /// <summary>
    /// <c>struct io_uring_buf</c>: one provided-buffer ring entry (16 bytes). In entry 0 the <c>resv</c>
    /// field is the ring's tail (<c>struct io_uring_buf_ring</c> overlays it), so entries are written
    /// field by field, never as a whole struct.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct io_uring_buf
    {
        internal ulong addr;
        internal uint len;
        internal ushort bid;
        internal ushort resv;
    }

    /// <summary>Offset of the 16-bit tail inside a provided-buffer ring (<c>io_uring_buf_ring.tail</c>, over <c>bufs[0].resv</c>).</summary>
    internal const int IO_URING_BUF_RING_TAIL_OFFSET = 14;

    /// <summary><c>struct io_uring_buf_reg</c>: argument of IORING_(UN)REGISTER_PBUF_RING (40 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct io_uring_buf_reg
    {
        internal ulong ring_addr;
        internal uint ring_entries;
        internal ushort bgid;
        internal ushort flags;
        internal uint min_left;
        internal fixed uint resv[5];
    }

    /// <summary><c>struct io_uring_rsrc_update</c>: argument of IORING_(UN)REGISTER_RING_FDS (16 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct io_uring_rsrc_update
    {
        internal uint offset;
        internal uint resv;
        internal ulong data;
    }

    /// <summary><c>struct __kernel_timespec</c>: 64-bit seconds and nanoseconds on every architecture (16 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct __kernel_timespec
    {
        internal long tv_sec;
        internal long tv_nsec;
    }

    /// <summary><c>struct io_uring_getevents_arg</c>: the io_uring_enter argument with IORING_ENTER_EXT_ARG (24 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct io_uring_getevents_arg
    {
        internal ulong sigmask;
        internal uint sigmask_sz;
        internal uint min_wait_usec;
        internal ulong ts;
    }

    /// <summary>
    /// <c>struct io_uring_recvmsg_out</c>: the header a multishot RECVMSG writes at the start of each
    /// provided buffer, followed by the name, the control data and the payload (16 bytes).
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct io_uring_recvmsg_out
    {
        internal uint namelen;
        internal uint controllen;
        internal uint payloadlen;
        internal uint flags;
    }

    /// <summary><c>struct io_uring_probe_op</c> (8 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct io_uring_probe_op
    {
        internal byte op;
        internal byte resv;
        internal ushort flags;
        internal uint resv2;
    }

    /// <summary><c>struct io_uring_probe</c>: header of the IORING_REGISTER_PROBE result, followed by <c>ops_len</c> ops (16 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct io_uring_probe
    {
        internal byte last_op;
        internal byte ops_len;
        internal ushort resv;
        internal fixed uint resv2[3];
    }

    [LibraryImport(Name, SetLastError = true)]
    private static partial long syscall(long number, long arg1, long arg2, long arg3, long arg4, long arg5, long arg6);

    /// <summary>io_uring_setup(2): a new ring; returns its descriptor, or -1 with errno.</summary>
    internal static unsafe int io_uring_setup(uint entries, io_uring_params* p)
        => (int)syscall(SYS_io_uring_setup, entries, (long)p, 0, 0, 0, 0);

    /// <summary>
    /// io_uring_enter(2): submits <paramref name="to_submit"/> SQEs and/or waits for <paramref name="min_complete"/>
    /// completions. <paramref name="fd"/> is the ring descriptor, or its registered index with IORING_ENTER_REGISTERED_RING.
    /// Returns the number of SQEs consumed, or -1 with errno.
    /// </summary>
    internal static unsafe int io_uring_enter(int fd, uint to_submit, uint min_complete, uint flags, void* arg, nuint argsz)
        => (int)syscall(SYS_io_uring_enter, fd, to_submit, min_complete, flags, (long)arg, (long)argsz);

    /// <summary>io_uring_register(2): returns 0 (or an opcode-specific count), or -1 with errno.</summary>
    internal static unsafe int io_uring_register(int fd, uint opcode, void* arg, uint nr_args)
        => (int)syscall(SYS_io_uring_register, fd, opcode, (long)arg, nr_args, 0, 0);
}
