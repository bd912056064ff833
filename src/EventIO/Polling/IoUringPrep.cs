using System.Runtime.Versioning;
using EventIO.Interop;

namespace EventIO.Polling;

/// <summary>
/// Fills an SQE from <see cref="IoUring.GetSqe"/> for one operation, as liburing's <c>io_uring_prep_*</c>
/// inline functions do. Each helper expects a zeroed SQE (which <see cref="IoUring.GetSqe"/> returns) and sets
/// <c>user_data</c>, the caller's 64-bit tag that comes back in the completion. Extra SQE flags (links,
/// CQE_SKIP_SUCCESS) may be or-ed into <c>sqe.flags</c> afterwards.
/// </summary>
/// <remarks>
/// Pointers given to a helper (send data, msghdrs, read buffers) are read or written by the kernel after the
/// call returns: they must stay valid and unmoved until the request's final completion (pinned or native
/// memory). On current kernels (IORING_FEAT_SUBMIT_STABLE) a msghdr, its iovec array and its address are
/// copied when the SQE is submitted, but the data they point to is used until completion.
/// </remarks>
[SupportedOSPlatform("linux")]
internal static unsafe class IoUringPrep
{
    /// <summary>IORING_OP_NOP: completes at once with result 0.</summary>
    internal static void Nop(ref Libc.io_uring_sqe sqe, ulong userData)
    {
        sqe.opcode = Libc.IORING_OP_NOP;
        sqe.fd = -1;
        sqe.user_data = userData;
    }

    /// <summary>
    /// IORING_OP_POLL_ADD: completes with the ready <c>POLL*</c> mask when <paramref name="fd"/> becomes ready for
    /// <paramref name="events"/>. Multishot (IORING_POLL_ADD_MULTI): stays armed and posts one completion (with
    /// IORING_CQE_F_MORE) per wake-up of the file, edge-style: no new completion while the state merely persists.
    /// </summary>
    internal static void PollAdd(ref Libc.io_uring_sqe sqe, int fd, uint events, bool multishot, ulong userData)
    {
        sqe.opcode = Libc.IORING_OP_POLL_ADD;
        sqe.fd = fd;
        sqe.poll32_events = events; // little-endian hosts only; liburing swaps half-words on big-endian
        sqe.len = multishot ? Libc.IORING_POLL_ADD_MULTI : 0;
        sqe.user_data = userData;
    }

    /// <summary>
    /// IORING_OP_POLL_REMOVE of the poll request tagged <paramref name="targetUserData"/>: this request completes
    /// with 0 (or -ENOENT when no such poll is armed) and the poll's last completion carries -ECANCELED.
    /// </summary>
    internal static void PollRemove(ref Libc.io_uring_sqe sqe, ulong targetUserData, ulong userData)
    {
        sqe.opcode = Libc.IORING_OP_POLL_REMOVE;
        sqe.fd = -1;
        sqe.addr = targetUserData;
        sqe.user_data = userData;
    }

    /// <summary>
    /// IORING_OP_ACCEPT on listening socket <paramref name="fd"/>; the accepted socket is created with
    /// SOCK_NONBLOCK|SOCK_CLOEXEC and its descriptor is the completion's result. With
    /// <paramref name="multishot"/> (IORING_ACCEPT_MULTISHOT, 5.19) one completion per connection, with
    /// IORING_CQE_F_MORE while armed. The peer address is not requested (getpeername when needed).
    /// </summary>
    internal static void Accept(ref Libc.io_uring_sqe sqe, int fd, bool multishot, ulong userData)
    {
        sqe.opcode = Libc.IORING_OP_ACCEPT;
        sqe.fd = fd;
        sqe.accept_flags = Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC;
        sqe.ioprio = multishot ? Libc.IORING_ACCEPT_MULTISHOT : (ushort)0;
        sqe.user_data = userData;
    }

    /// <summary>
    /// Multishot IORING_OP_RECV on stream socket <paramref name="fd"/> into buffers the kernel picks from provided
    /// buffer group <paramref name="bufferGroup"/> (IOSQE_BUFFER_SELECT, IORING_RECV_MULTISHOT, 6.0). Each
    /// completion: result = bytes received into the buffer named by <see cref="IoUringCompletion.BufferId"/>
    /// (at most one buffer's size); 0 = the peer ended the stream (final); -ENOBUFS = the group ran dry (final:
    /// recycle buffers, then submit this again; the unread data waits in the socket).
    /// </summary>
    internal static void RecvMultishot(ref Libc.io_uring_sqe sqe, int fd, ushort bufferGroup, ulong userData)
    {
        sqe.opcode = Libc.IORING_OP_RECV;
        sqe.fd = fd;
        sqe.ioprio = Libc.IORING_RECV_MULTISHOT;
        sqe.flags = Libc.IOSQE_BUFFER_SELECT;
        sqe.buf_group = bufferGroup;
        sqe.user_data = userData;
    }

    /// <summary>
    /// One IORING_OP_RECV on stream socket <paramref name="fd"/> into one buffer of provided group
    /// <paramref name="bufferGroup"/>: at most one buffer's bytes, then the request ends (no F_MORE). Used where a
    /// multishot receive could read too far ahead of a consumer that is falling behind.
    /// </summary>
    internal static void RecvOnce(ref Libc.io_uring_sqe sqe, int fd, ushort bufferGroup, ulong userData)
    {
        sqe.opcode = Libc.IORING_OP_RECV;
        sqe.fd = fd;
        sqe.flags = Libc.IOSQE_BUFFER_SELECT;
        sqe.buf_group = bufferGroup;
        sqe.user_data = userData;
    }

    /// <summary>
    /// IORING_OP_SEND of <paramref name="length"/> bytes at <paramref name="data"/> with MSG_NOSIGNAL. The result is
    /// the count sent, which on a stream socket may be short (the kernel waits for room once, then takes what
    /// fits): sending the rest is the caller's job. <paramref name="data"/> must stay valid until completion.
    /// </summary>
    internal static void Send(ref Libc.io_uring_sqe sqe, int fd, byte* data, uint length, ulong userData)
    {
        sqe.opcode = Libc.IORING_OP_SEND;
        sqe.fd = fd;
        sqe.addr = (ulong)data;
        sqe.len = length;
        sqe.msg_flags = Libc.MSG_NOSIGNAL;
        sqe.user_data = userData;
    }

    /// <summary>
    /// Multishot IORING_OP_RECVMSG on datagram socket <paramref name="fd"/> into buffers from group
    /// <paramref name="bufferGroup"/>. Each buffer receives an <c>io_uring_recvmsg_out</c> header, then
    /// <c>msg_namelen</c> bytes for the source address, <c>msg_controllen</c> bytes of control data, then the
    /// payload: parse it with <see cref="IoUringRecvMessage.TryParse"/> using the same two lengths.
    /// <paramref name="message"/> supplies only those two lengths (<c>msg_iovlen</c> 0); it must stay valid
    /// until the request is submitted (conservatively: until its final completion). The request passes
    /// MSG_TRUNC as a receive flag, so a datagram's header reports its real length even when it was cut
    /// (without it the kernel reports the length copied) and MSG_TRUNC in its flags. Any completion without
    /// IORING_CQE_F_MORE means the request ended and must be re-armed, including a valid one: a zero-length
    /// datagram ends it (sock_recvmsg returned 0, as at end of stream), and so does -ENOBUFS.
    /// </summary>
    internal static void RecvMsgMultishot(ref Libc.io_uring_sqe sqe, int fd, Libc.msghdr* message, ushort bufferGroup, ulong userData)
    {
        sqe.opcode = Libc.IORING_OP_RECVMSG;
        sqe.fd = fd;
        sqe.addr = (ulong)message;
        sqe.len = 1;
        sqe.msg_flags = Libc.MSG_TRUNC;
        sqe.ioprio = Libc.IORING_RECV_MULTISHOT;
        sqe.flags = Libc.IOSQE_BUFFER_SELECT;
        sqe.buf_group = bufferGroup;
        sqe.user_data = userData;
    }

    /// <summary>
    /// IORING_OP_SENDMSG of <paramref name="message"/> (destination in <c>msg_name</c>, data in <c>msg_iov</c>)
    /// with MSG_NOSIGNAL. Several of these queued before one <see cref="IoUring.SubmitAndWait"/> go out in one
    /// system call. The msghdr, its iovecs, address and data must stay valid until completion.
    /// </summary>
    internal static void SendMsg(ref Libc.io_uring_sqe sqe, int fd, Libc.msghdr* message, ulong userData)
    {
        sqe.opcode = Libc.IORING_OP_SENDMSG;
        sqe.fd = fd;
        sqe.addr = (ulong)message;
        sqe.len = 1;
        sqe.msg_flags = Libc.MSG_NOSIGNAL;
        sqe.user_data = userData;
    }

    /// <summary>
    /// IORING_OP_ASYNC_CANCEL of the request(s) tagged <paramref name="targetUserData"/> (every match with
    /// <paramref name="all"/>, IORING_ASYNC_CANCEL_ALL). This request completes with 0 (or, with
    /// <paramref name="all"/>, the number cancelled, 0 when nothing matched), -ENOENT when nothing matched (without
    /// <paramref name="all"/>), or -EALREADY when the target was already running and may still complete; each
    /// cancelled request completes with -ECANCELED.
    /// </summary>
    internal static void Cancel(ref Libc.io_uring_sqe sqe, ulong targetUserData, bool all, ulong userData)
    {
        sqe.opcode = Libc.IORING_OP_ASYNC_CANCEL;
        sqe.fd = -1;
        sqe.addr = targetUserData;
        sqe.cancel_flags = all ? Libc.IORING_ASYNC_CANCEL_ALL : 0;
        sqe.user_data = userData;
    }

    /// <summary>
    /// IORING_OP_ASYNC_CANCEL of the request(s) on descriptor <paramref name="fd"/> (IORING_ASYNC_CANCEL_FD, 5.19;
    /// every one with <paramref name="all"/>): what a backend issues before closing a socket. Results as
    /// <see cref="Cancel"/>.
    /// </summary>
    internal static void CancelFd(ref Libc.io_uring_sqe sqe, int fd, bool all, ulong userData)
    {
        sqe.opcode = Libc.IORING_OP_ASYNC_CANCEL;
        sqe.fd = fd;
        sqe.cancel_flags = Libc.IORING_ASYNC_CANCEL_FD | (all ? Libc.IORING_ASYNC_CANCEL_ALL : 0);
        sqe.user_data = userData;
    }

    /// <summary>
    /// IORING_OP_READ of up to <paramref name="length"/> bytes into <paramref name="buffer"/> at the file's current
    /// position (offset -1; streams such as an eventfd have none): e.g. the 8-byte counter of an eventfd, which
    /// completes when another thread writes it. <paramref name="buffer"/> must stay valid until completion.
    /// </summary>
    internal static void Read(ref Libc.io_uring_sqe sqe, int fd, void* buffer, uint length, ulong userData)
    {
        sqe.opcode = Libc.IORING_OP_READ;
        sqe.fd = fd;
        sqe.addr = (ulong)buffer;
        sqe.len = length;
        sqe.off = ulong.MaxValue;
        sqe.user_data = userData;
    }
}
