using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EventIO.Interop;

namespace EventIO.Polling;

/// <summary>
/// One datagram as a multishot RECVMSG leaves it in a provided buffer: an <c>io_uring_recvmsg_out</c> header,
/// the source address (<c>msg_namelen</c> bytes reserved), the control data (<c>msg_controllen</c> bytes
/// reserved), then the payload; liburing's <c>io_uring_recvmsg_validate</c>/<c>_name</c>/<c>_payload</c>
/// without pointers. The spans point into the provided buffer: valid until it is recycled.
/// </summary>
internal readonly ref struct IoUringRecvMessage
{
    private IoUringRecvMessage(ReadOnlySpan<byte> name, ReadOnlySpan<byte> control, ReadOnlySpan<byte> payload, Libc.io_uring_recvmsg_out header)
    {
        Name = name;
        Control = control;
        Payload = payload;
        PayloadLength = header.payloadlen;
        Flags = (int)header.flags;
    }

    /// <summary>The source address as a <c>sockaddr</c>, cut to the reserved name length if it was longer.</summary>
    internal ReadOnlySpan<byte> Name { get; }

    /// <summary>The control data (ancillary messages), cut to the reserved length.</summary>
    internal ReadOnlySpan<byte> Control { get; }

    /// <summary>The payload bytes that fit in the buffer.</summary>
    internal ReadOnlySpan<byte> Payload { get; }

    /// <summary>The datagram's real length; larger than <c>Payload.Length</c> when it was truncated.</summary>
    internal uint PayloadLength { get; }

    /// <summary>The recvmsg <c>msg_flags</c> (MSG_TRUNC, MSG_CTRUNC...).</summary>
    internal int Flags { get; }

    /// <summary>MSG_TRUNC: the datagram did not fit and its tail was discarded.</summary>
    internal bool IsTruncated => (Flags & Libc.MSG_TRUNC) != 0;

    /// <summary>
    /// Parses the first <c>completion.Result</c> bytes of a provided buffer, where
    /// <paramref name="nameLength"/> and <paramref name="controlLength"/> are the <c>msg_namelen</c> and
    /// <c>msg_controllen</c> of the msghdr given to <see cref="IoUringPrep.RecvMsgMultishot"/>.
    /// </summary>
    /// <returns>False when <paramref name="buffer"/> is too short to hold the header and the reserved areas.</returns>
    internal static bool TryParse(ReadOnlySpan<byte> buffer, int nameLength, int controlLength, out IoUringRecvMessage message)
    {
        int header = Unsafe.SizeOf<Libc.io_uring_recvmsg_out>();
        if (nameLength < 0 || controlLength < 0 || buffer.Length < header
            || nameLength > buffer.Length - header || controlLength > buffer.Length - header - nameLength)
        {
            message = default;
            return false;
        }

        Libc.io_uring_recvmsg_out output = MemoryMarshal.Read<Libc.io_uring_recvmsg_out>(buffer);
        ReadOnlySpan<byte> name = buffer.Slice(header, (int)Math.Min(output.namelen, (uint)nameLength));
        ReadOnlySpan<byte> control = buffer.Slice(header + nameLength, (int)Math.Min(output.controllen, (uint)controlLength));
        ReadOnlySpan<byte> payload = buffer[(header + nameLength + controlLength)..];
        message = new IoUringRecvMessage(name, control, payload, output);
        return true;
    }
}
