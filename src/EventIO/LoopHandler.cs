using System.Runtime.InteropServices;

namespace EventIO;

/// <summary>
/// The shared base of handlers that belong to one loop and own their handle: <see cref="Net.TcpServer"/>,
/// <see cref="Net.TcpConnection"/>, <see cref="Net.UdpServer"/>, and any of your own. The loop attaches it
/// in <see cref="EventLoop.Add"/> (the one place a handler meets its loop); <see cref="Close"/> runs once,
/// in the right order: out of the loop, then the handle closed, then <see cref="OnClosed"/> after the
/// current callback returns.
/// </summary>
/// <remarks>
/// <para><b>Threading:</b> the loop calls the handler members on its thread. <see cref="Close"/> must be
/// called there too (it throws <see cref="InvalidOperationException"/> from another thread, before changing
/// anything), or before the handler was added, or after its loop was disposed.</para>
/// <para><b>No re-entrant surprises:</b> <see cref="OnClosed"/> never runs inside the call that closed the
/// handler (libuv runs close callbacks in their own phase; Netty fires <c>channelInactive</c> later): a
/// broadcast loop whose send fails for one member is not re-entered by that member's close.</para>
/// </remarks>
public abstract class LoopHandler : IEventHandler, IDisposable
{
    private static readonly Action<object?> s_reportClosed = static s => ((LoopHandler)s!).ReportClosed();

    private EventLoop? _loop;

    /// <summary>The loop this handler was added to.</summary>
    /// <exception cref="InvalidOperationException">It has not been added to a loop yet.</exception>
    public EventLoop Loop => _loop ?? throw new InvalidOperationException($"{GetType().Name} has not been added to a loop yet (EventLoop.Add attaches it).");

    /// <summary>True once the handler has been added to a loop (it stays bound to that loop).</summary>
    public bool IsAttached => _loop is not null;

    /// <summary>True once <see cref="Close"/> has run.</summary>
    public bool IsClosed { get; private set; }

    /// <inheritdoc/>
    public abstract SafeHandle Handle { get; }

    /// <inheritdoc/>
    public abstract bool WantsToReceive { get; }

    /// <inheritdoc/>
    public abstract bool WantsToSend { get; }

    /// <inheritdoc/>
    public abstract void HandleReceive();

    /// <inheritdoc/>
    public abstract void HandleSend();

    /// <summary>
    /// Closes at once, exactly once: <see cref="OnClosing"/>, removal from the loop (before the descriptor
    /// closes, so its number can be reused safely), <see cref="ReleaseHandle"/>, and later
    /// <see cref="OnClosed"/>. Idempotent.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called from a thread other than the loop's.</exception>
    public void Close()
    {
        if (IsClosed)
        {
            return;
        }

        _loop?.ThrowIfNotOnLoopThread();
        IsClosed = true;
        OnClosing();
        _loop?.Remove(this);
        ReleaseHandle();
        if (_loop is null || !_loop.Post(s_reportClosed, this))
        {
            ReportClosed(); // never added, or its loop is gone: nobody else can run it
        }
    }

    /// <summary>Same as <see cref="Close"/>.</summary>
    public void Dispose()
    {
        Close();
        GC.SuppressFinalize(this);
    }

    /// <summary>Called by <see cref="EventLoop.Add"/> once the handler is registered. A throw closes the handler.</summary>
    protected virtual void OnAdded()
    {
    }

    /// <summary>
    /// Called inside <see cref="Close"/> before the handle is released: cancel timers, drop buffers. Runs
    /// inside the caller's call, so it must not call back into application code.
    /// </summary>
    protected virtual void OnClosing()
    {
    }

    /// <summary>Closes the handle. Override to close the object that owns it (a socket, say).</summary>
    protected virtual void ReleaseHandle() => Handle.Dispose();

    /// <summary>Called once, on the loop thread, after the callback that closed the handler has returned.</summary>
    protected virtual void OnClosed()
    {
    }

    /// <summary>Runs after the closing callback returned: the building blocks settle their own books first, then <see cref="OnClosed"/>.</summary>
    private protected virtual void ReportClosed() => OnClosed();

    /// <summary>
    /// Before registration: the building blocks choose how they do their I/O on this loop (readiness, or
    /// io_uring requests of their own), since the registry reads their wants next.
    /// </summary>
    private protected virtual void OnAttaching(EventLoop loop)
    {
    }

    /// <summary>Refuses a second loop before anything is registered.</summary>
    internal void EnsureAttachable(EventLoop loop)
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        if (_loop is not null && !ReferenceEquals(_loop, loop))
        {
            throw new InvalidOperationException($"{GetType().Name} belongs to another loop; a handler is added to one loop only.");
        }

        OnAttaching(loop);
    }

    /// <summary>Binds the handler to <paramref name="loop"/> once it is registered, and runs <see cref="OnAdded"/>.</summary>
    internal void Attach(EventLoop loop)
    {
        _loop = loop;
        OnAdded();
    }
}
