using System.IO.Pipelines;

namespace EventIO.Async;

/// <summary>
/// The <see cref="PipeReader"/> an <see cref="AsyncTcpConnection"/>'s pipe hands the application: the inner pipe's
/// reader, with every call checked to be on the loop thread (the pipe's other end is fed by the loop).
/// </summary>
/// <remarks><b>Threading:</b> loop thread only; other threads get <see cref="InvalidOperationException"/>.</remarks>
internal sealed class LoopPipeReader(EventLoop loop, PipeReader inner) : PipeReader
{
    /// <inheritdoc/>
    public override void AdvanceTo(SequencePosition consumed)
    {
        loop.ThrowIfNotOnLoopThread();
        inner.AdvanceTo(consumed);
    }

    /// <inheritdoc/>
    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        loop.ThrowIfNotOnLoopThread();
        inner.AdvanceTo(consumed, examined);
    }

    /// <inheritdoc/>
    public override void CancelPendingRead()
    {
        loop.ThrowIfNotOnLoopThread();
        inner.CancelPendingRead();
    }

    /// <inheritdoc/>
    public override void Complete(Exception? exception = null)
    {
        loop.ThrowIfNotOnLoopThread();
        inner.Complete(exception);
    }

    /// <inheritdoc/>
    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        loop.ThrowIfNotOnLoopThread();
        return inner.ReadAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public override bool TryRead(out ReadResult result)
    {
        loop.ThrowIfNotOnLoopThread();
        return inner.TryRead(out result);
    }

    /// <inheritdoc/>
    protected override ValueTask<ReadResult> ReadAtLeastAsyncCore(int minimumSize, CancellationToken cancellationToken)
    {
        loop.ThrowIfNotOnLoopThread();
        return inner.ReadAtLeastAsync(minimumSize, cancellationToken);
    }
}
