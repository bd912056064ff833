namespace EventIO.Async;

/// <summary>
/// <see cref="EventLoop.SynchronizationContext"/>: <see cref="Post"/> queues the callback to the loop (one
/// small object per post), <see cref="Send"/> runs it on the loop and waits.
/// </summary>
/// <remarks><b>Threading:</b> any thread. Installed as <see cref="SynchronizationContext.Current"/> on the loop thread while it runs.</remarks>
internal sealed class LoopSynchronizationContext : SynchronizationContext
{
    private static readonly Action<object?> s_invoke = static s => ((PostedCallback)s!).Invoke();

    private readonly EventLoop _loop;

    internal LoopSynchronizationContext(EventLoop loop) => _loop = loop;

    /// <summary>Runs <paramref name="d"/> on the loop thread in a coming turn (see <see cref="EventLoop.SynchronizationContext"/> for a disposed loop).</summary>
    public override void Post(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        _loop.PostOrRun(s_invoke, new PostedCallback(d, state));
    }

    /// <summary>Runs <paramref name="d"/> at once on the loop thread, or posts it from another thread and blocks until it has run (never from a callback of a loop that waits for this one).</summary>
    /// <exception cref="TaskCanceledException">The loop is disposed and will never run it.</exception>
    public override void Send(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (_loop.IsActiveHere)
        {
            d(state);
            return;
        }

        _loop.InvokeAsync(() => d(state)).GetAwaiter().GetResult();
    }

    /// <summary>The same context: it is bound to its loop, not to a thread's state.</summary>
    public override SynchronizationContext CreateCopy() => this;

    private sealed class PostedCallback(SendOrPostCallback callback, object? state)
    {
        internal void Invoke() => callback(state);
    }
}
