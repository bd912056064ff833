using System.IO.Pipelines;

namespace EventIO.Async;

/// <summary>
/// The loop as a <see cref="PipeScheduler"/>: a pipe continuation is posted to the loop (no allocation: the
/// action and its state go into the post queue as they are) and runs in a coming turn's posted phase.
/// </summary>
/// <remarks><b>Threading:</b> any thread.</remarks>
internal sealed class LoopPipeScheduler(EventLoop loop) : PipeScheduler
{
    /// <inheritdoc/>
    public override void Schedule(Action<object?> action, object? state) => loop.PostOrRun(action, state);
}
