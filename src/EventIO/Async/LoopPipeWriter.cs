using System.IO.Pipelines;

namespace EventIO.Async;

/// <summary>
/// The <see cref="PipeWriter"/> an <see cref="AsyncTcpConnection"/>'s pipe hands the application: the inner pipe's
/// writer, with every call checked to be on the loop thread (a flush sends on the connection).
/// </summary>
/// <remarks><b>Threading:</b> loop thread only; other threads get <see cref="InvalidOperationException"/>.</remarks>
internal sealed class LoopPipeWriter(EventLoop loop, PipeWriter inner) : PipeWriter
{
    /// <inheritdoc/>
    public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

    /// <inheritdoc/>
    public override long UnflushedBytes => inner.UnflushedBytes;

    /// <inheritdoc/>
    public override void Advance(int bytes)
    {
        loop.ThrowIfNotOnLoopThread();
        inner.Advance(bytes);
    }

    /// <inheritdoc/>
    public override void CancelPendingFlush()
    {
        loop.ThrowIfNotOnLoopThread();
        inner.CancelPendingFlush();
    }

    /// <inheritdoc/>
    public override void Complete(Exception? exception = null)
    {
        loop.ThrowIfNotOnLoopThread();
        inner.Complete(exception);
    }

    /// <inheritdoc/>
    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        loop.ThrowIfNotOnLoopThread();
        return inner.FlushAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        loop.ThrowIfNotOnLoopThread();
        return inner.GetMemory(sizeHint);
    }

    /// <inheritdoc/>
    public override Span<byte> GetSpan(int sizeHint = 0)
    {
        loop.ThrowIfNotOnLoopThread();
        return inner.GetSpan(sizeHint);
    }
}
