namespace EventIO.Polling;

/// <summary>
/// The kinds of io_uring request the backend submits, in the top byte of each request's user data, so that
/// a completion is routed without a lookup table per request.
/// </summary>
internal static class RingOperation
{
    /// <summary>A one-shot POLL_ADD for a handler's readiness (user data: arm sequence, descriptor).</summary>
    internal const byte Poll = 0x01;

    /// <summary>A POLL_REMOVE or ASYNC_CANCEL of the backend's own: its completion is ignored.</summary>
    internal const byte Cancel = 0x02;

    /// <summary>The first kind routed to a building block (user data: generation, completion slot).</summary>
    internal const byte FirstCompletion = 0x10;

    /// <summary>A multishot RECV into the provided buffer ring.</summary>
    internal const byte Receive = 0x10;

    /// <summary>A SEND of queued bytes.</summary>
    internal const byte Send = 0x11;

    /// <summary>A multishot ACCEPT.</summary>
    internal const byte Accept = 0x12;

    /// <summary>A multishot RECVMSG of datagrams.</summary>
    internal const byte ReceiveMessage = 0x13;

    /// <summary>A SENDMSG of one datagram.</summary>
    internal const byte SendMessage = 0x14;

    /// <summary>The kind of a request from its user data.</summary>
    internal static byte KindOf(ulong userData) => (byte)(userData >> 56);
}
