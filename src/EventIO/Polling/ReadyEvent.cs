namespace EventIO.Polling;

/// <summary>
/// One report from a poller: a registration is ready (readiness backends), or, with io_uring, an operation
/// a building block submitted has completed (<see cref="Operation"/> is then not 0).
/// </summary>
/// <param name="Token">The token given to <see cref="IPoller.Add"/> or <see cref="IPoller.Modify"/>; for a completion, its user data.</param>
/// <param name="Ready">The readiness reported (not yet masked by the current interest).</param>
/// <param name="Failed">
/// The kernel reported an error, a hang-up or an invalid descriptor; the loop then dispatches every
/// direction the handler is interested in so that its next receive or send sees the failure.
/// </param>
internal readonly record struct ReadyEvent(ulong Token, Interest Ready, bool Failed)
{
    /// <summary>0 for readiness; otherwise the completed operation (<see cref="RingOperation"/>).</summary>
    internal byte Operation { get; init; }

    /// <summary>A completion's result: bytes, a descriptor, or -errno.</summary>
    internal int Result { get; init; }

    /// <summary>A completion's flags (IORING_CQE_F_MORE, IORING_CQE_F_BUFFER and the buffer id).</summary>
    internal uint Flags { get; init; }
}
