using EventIO.Interop;

namespace EventIO.Polling;

/// <summary>
/// One completion read from an <see cref="IoUring"/>'s CQ: a copy of the kernel's <c>io_uring_cqe</c>,
/// so it stays valid after the slot is released with <see cref="IoUring.Advance"/>.
/// </summary>
/// <param name="UserData">The <c>user_data</c> the submitter put in the SQE.</param>
/// <param name="Result">The operation's result: a count, a descriptor, a poll mask, 0, or <c>-errno</c>.</param>
/// <param name="Flags">The <c>IORING_CQE_F_*</c> bits, and the buffer id in the upper 16 bits when <see cref="HasBuffer"/>.</param>
internal readonly record struct IoUringCompletion(ulong UserData, int Result, uint Flags)
{
    /// <summary>
    /// IORING_CQE_F_MORE: the request is multishot and still armed; more completions will follow. A
    /// multishot request's last completion lacks this flag (it ended: error, cancellation, EOF, or the
    /// kernel gave up), and the submitter must re-arm it if it still wants events.
    /// </summary>
    internal bool HasMore => (Flags & Libc.IORING_CQE_F_MORE) != 0;

    /// <summary>IORING_CQE_F_BUFFER: the kernel picked a provided buffer, whose id is <see cref="BufferId"/>.</summary>
    internal bool HasBuffer => (Flags & Libc.IORING_CQE_F_BUFFER) != 0;

    /// <summary>The provided buffer's id (the upper 16 bits of the flags); meaningful only when <see cref="HasBuffer"/>.</summary>
    internal ushort BufferId => (ushort)(Flags >> Libc.IORING_CQE_BUFFER_SHIFT);

    /// <summary>IORING_CQE_F_SOCK_NONEMPTY: after this receive the socket still held data.</summary>
    internal bool SocketNonEmpty => (Flags & Libc.IORING_CQE_F_SOCK_NONEMPTY) != 0;

    /// <summary>True when <see cref="Result"/> is an error (<c>-errno</c>).</summary>
    internal bool IsError => Result < 0;
}
