using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EventIO.Interop;

namespace EventIO.Tests.Uring;

/// <summary>
/// The interop structs match linux/io_uring.h (and glibc's msghdr) byte for byte: sizes and the offsets of
/// the fields the kernel reads or writes. No kernel needed.
/// </summary>
public sealed unsafe class IoUringLayoutTests
{
    [Fact]
    public void StructSizes_MatchTheUapiHeader()
    {
        Assert.Equal(64, sizeof(Libc.io_uring_sqe));
        Assert.Equal(16, sizeof(Libc.io_uring_cqe));
        Assert.Equal(120, sizeof(Libc.io_uring_params));
        Assert.Equal(40, sizeof(Libc.io_sqring_offsets));
        Assert.Equal(40, sizeof(Libc.io_cqring_offsets));
        Assert.Equal(16, sizeof(Libc.io_uring_buf));
        Assert.Equal(40, sizeof(Libc.io_uring_buf_reg));
        Assert.Equal(16, sizeof(Libc.io_uring_rsrc_update));
        Assert.Equal(24, sizeof(Libc.io_uring_getevents_arg));
        Assert.Equal(16, sizeof(Libc.__kernel_timespec));
        Assert.Equal(16, sizeof(Libc.io_uring_recvmsg_out));
        Assert.Equal(16, sizeof(Libc.io_uring_probe));
        Assert.Equal(8, sizeof(Libc.io_uring_probe_op));
        Assert.Equal(56, sizeof(Libc.msghdr));
        Assert.Equal(16, sizeof(Libc.iovec));
    }

    [Fact]
    public void SqeFieldOffsets_MatchTheUapiHeader()
    {
        Libc.io_uring_sqe sqe = default;
        Assert.Equal(0, Offset(ref sqe, ref sqe.opcode));
        Assert.Equal(1, Offset(ref sqe, ref sqe.flags));
        Assert.Equal(2, Offset(ref sqe, ref sqe.ioprio));
        Assert.Equal(4, Offset(ref sqe, ref sqe.fd));
        Assert.Equal(8, Offset(ref sqe, ref sqe.off));
        Assert.Equal(8, Offset(ref sqe, ref sqe.addr2));
        Assert.Equal(16, Offset(ref sqe, ref sqe.addr));
        Assert.Equal(24, Offset(ref sqe, ref sqe.len));
        Assert.Equal(28, Offset(ref sqe, ref sqe.rw_flags));
        Assert.Equal(28, Offset(ref sqe, ref sqe.poll32_events));
        Assert.Equal(28, Offset(ref sqe, ref sqe.msg_flags));
        Assert.Equal(28, Offset(ref sqe, ref sqe.accept_flags));
        Assert.Equal(28, Offset(ref sqe, ref sqe.cancel_flags));
        Assert.Equal(32, Offset(ref sqe, ref sqe.user_data));
        Assert.Equal(40, Offset(ref sqe, ref sqe.buf_index));
        Assert.Equal(40, Offset(ref sqe, ref sqe.buf_group));
        Assert.Equal(42, Offset(ref sqe, ref sqe.personality));
        Assert.Equal(44, Offset(ref sqe, ref sqe.splice_fd_in));
        Assert.Equal(44, Offset(ref sqe, ref sqe.file_index));
        Assert.Equal(48, Offset(ref sqe, ref sqe.addr3));
        Assert.Equal(56, Offset(ref sqe, ref sqe.__pad2));
    }

    [Fact]
    public void ParamsAndRingOffsets_MatchTheUapiHeader()
    {
        Assert.Equal(0, OffsetOf<Libc.io_uring_params>(nameof(Libc.io_uring_params.sq_entries)));
        Assert.Equal(8, OffsetOf<Libc.io_uring_params>(nameof(Libc.io_uring_params.flags)));
        Assert.Equal(20, OffsetOf<Libc.io_uring_params>(nameof(Libc.io_uring_params.features)));
        Assert.Equal(24, OffsetOf<Libc.io_uring_params>(nameof(Libc.io_uring_params.wq_fd)));
        Assert.Equal(40, OffsetOf<Libc.io_uring_params>(nameof(Libc.io_uring_params.sq_off)));
        Assert.Equal(80, OffsetOf<Libc.io_uring_params>(nameof(Libc.io_uring_params.cq_off)));
        Assert.Equal(24, OffsetOf<Libc.io_sqring_offsets>(nameof(Libc.io_sqring_offsets.array)));
        Assert.Equal(32, OffsetOf<Libc.io_sqring_offsets>(nameof(Libc.io_sqring_offsets.user_addr)));
        Assert.Equal(16, OffsetOf<Libc.io_cqring_offsets>(nameof(Libc.io_cqring_offsets.overflow)));
        Assert.Equal(20, OffsetOf<Libc.io_cqring_offsets>(nameof(Libc.io_cqring_offsets.cqes)));
        Assert.Equal(32, OffsetOf<Libc.io_cqring_offsets>(nameof(Libc.io_cqring_offsets.user_addr)));
    }

    [Fact]
    public void SmallStructOffsets_MatchTheUapiHeader()
    {
        Assert.Equal(8, OffsetOf<Libc.io_uring_cqe>(nameof(Libc.io_uring_cqe.res)));
        Assert.Equal(12, OffsetOf<Libc.io_uring_cqe>(nameof(Libc.io_uring_cqe.flags)));
        Assert.Equal(8, OffsetOf<Libc.io_uring_buf>(nameof(Libc.io_uring_buf.len)));
        Assert.Equal(12, OffsetOf<Libc.io_uring_buf>(nameof(Libc.io_uring_buf.bid)));
        Assert.Equal(Libc.IO_URING_BUF_RING_TAIL_OFFSET, OffsetOf<Libc.io_uring_buf>(nameof(Libc.io_uring_buf.resv)));
        Assert.Equal(8, OffsetOf<Libc.io_uring_buf_reg>(nameof(Libc.io_uring_buf_reg.ring_entries)));
        Assert.Equal(12, OffsetOf<Libc.io_uring_buf_reg>(nameof(Libc.io_uring_buf_reg.bgid)));
        Assert.Equal(16, OffsetOf<Libc.io_uring_buf_reg>(nameof(Libc.io_uring_buf_reg.min_left)));
        Assert.Equal(8, OffsetOf<Libc.io_uring_rsrc_update>(nameof(Libc.io_uring_rsrc_update.data)));
        Assert.Equal(8, OffsetOf<Libc.io_uring_getevents_arg>(nameof(Libc.io_uring_getevents_arg.sigmask_sz)));
        Assert.Equal(16, OffsetOf<Libc.io_uring_getevents_arg>(nameof(Libc.io_uring_getevents_arg.ts)));
        Assert.Equal(8, OffsetOf<Libc.io_uring_recvmsg_out>(nameof(Libc.io_uring_recvmsg_out.payloadlen)));
        Assert.Equal(12, OffsetOf<Libc.io_uring_recvmsg_out>(nameof(Libc.io_uring_recvmsg_out.flags)));
        Assert.Equal(2, OffsetOf<Libc.io_uring_probe_op>(nameof(Libc.io_uring_probe_op.flags)));
        Assert.Equal(1, OffsetOf<Libc.io_uring_probe>(nameof(Libc.io_uring_probe.ops_len)));
        Assert.Equal(8, OffsetOf<Libc.msghdr>(nameof(Libc.msghdr.msg_namelen)));
        Assert.Equal(16, OffsetOf<Libc.msghdr>(nameof(Libc.msghdr.msg_iov)));
        Assert.Equal(24, OffsetOf<Libc.msghdr>(nameof(Libc.msghdr.msg_iovlen)));
        Assert.Equal(32, OffsetOf<Libc.msghdr>(nameof(Libc.msghdr.msg_control)));
        Assert.Equal(40, OffsetOf<Libc.msghdr>(nameof(Libc.msghdr.msg_controllen)));
        Assert.Equal(48, OffsetOf<Libc.msghdr>(nameof(Libc.msghdr.msg_flags)));
    }

    private static int Offset<TField>(ref Libc.io_uring_sqe sqe, ref TField field)
        => (int)Unsafe.ByteOffset(ref Unsafe.As<Libc.io_uring_sqe, byte>(ref sqe), ref Unsafe.As<TField, byte>(ref field));

    private static int OffsetOf<T>(string field) => (int)Marshal.OffsetOf<T>(field);
}
