namespace EventIO.Async;

/// <summary>
/// An awaitable operation bound to a loop (a <see cref="EventLoop.Delay"/>, a <c>WorkerPool.RunAsync</c> result,
/// a pending <c>AsyncTcpListener.AcceptAsync</c>) that the loop completes as cancelled if it is disposed
/// first: no await on a loop is ever left hanging.
/// </summary>
/// <remarks><b>Threading:</b> tracked and cancelled on the loop thread (<see cref="EventLoop.Track"/>).</remarks>
internal interface ILoopOperation
{
    /// <summary>The loop the operation completes on.</summary>
    EventLoop Loop { get; }

    /// <summary>Completes the operation as cancelled (idempotent): the loop is being disposed. Loop thread.</summary>
    void CancelForDisposal();
}
