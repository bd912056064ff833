namespace EventIO.Polling;

/// <summary>A building block that submits its first io_uring requests once the loop's ring exists (on the loop thread).</summary>
internal interface IRingStartable
{
    /// <summary>The ring is ready (or already was): submit what the block needs (an accept, a receive).</summary>
    void OnRingStarted(IoUringPoller ring);
}
