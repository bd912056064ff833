using System.Threading.Tasks.Sources;

namespace EventIO.Async;

/// <summary>
/// A reusable <see cref="IValueTaskSource{TResult}"/> (and <see cref="IValueTaskSource"/>) for one kind of
/// operation of one object (a connection's receives, its sends, a listener's accepts): one at a time, no
/// allocation per operation. The operation completes on the loop thread; its awaiter's continuation runs in a
/// posted action of the loop, never inside the call that completed it (a handler's receive, a close).
/// </summary>
/// <remarks>
/// <para><b>Threading:</b> loop thread, except the cancellation callback, which posts to the loop.</para>
/// <para><b>Where continuations run:</b> always on the loop thread, in the posted phase, whatever context the
/// awaiter asked for (<see cref="ValueTaskSourceOnCompletedFlags.UseSchedulingContext"/> is dropped: the
/// scheduling context of an await on the loop is the loop, and honouring it through
/// <see cref="SynchronizationContext.Post"/> would cost an allocation per completion).</para>
/// </remarks>
internal sealed class LoopValueTaskSource<TResult> : IValueTaskSource<TResult>, IValueTaskSource
{
    private static readonly Action<object?> s_signal = static s => ((LoopValueTaskSource<TResult>)s!).Signal();
    private static readonly Action<object?> s_cancelOnLoop = static s => ((LoopValueTaskSource<TResult>)s!).CancelIfRequested();
    private static readonly Action<object?> s_cancelRequested = static s => ((LoopValueTaskSource<TResult>)s!).Loop.Post(s_cancelOnLoop, s); // refused only while the loop is disposed, which closes the owner

    private ManualResetValueTaskSourceCore<TResult> _core; // continuations inline: they already run in a posted action
    private CancellationToken _cancellationToken;
    private CancellationTokenRegistration _registration;
    private TResult? _result;
    private Exception? _error;
    private State _state;

    internal LoopValueTaskSource(EventLoop loop) => Loop = loop;

    private enum State : byte
    {
        Idle,
        Waiting,    // begun, not yet completed
        Completing, // completed; the signal to the awaiter is posted
    }

    /// <summary>The loop everything happens on.</summary>
    internal EventLoop Loop { get; }

    /// <summary>True from <see cref="Begin"/> until the awaiter has been signalled.</summary>
    internal bool IsPending => _state != State.Idle;

    /// <summary>True from <see cref="Begin"/> until <see cref="Complete"/> or <see cref="Fail"/>.</summary>
    internal bool IsWaiting => _state == State.Waiting;

    /// <summary>Starts an operation and returns its token (for <c>new ValueTask(source, token)</c>). Loop thread.</summary>
    internal short Begin(CancellationToken cancellationToken)
    {
        _core.Reset();
        _state = State.Waiting;
        if (cancellationToken.CanBeCanceled)
        {
            _cancellationToken = cancellationToken;
            _registration = cancellationToken.UnsafeRegister(s_cancelRequested, this);
        }

        return _core.Version;
    }

    /// <summary>Completes the operation with <paramref name="result"/>; its awaiter resumes in the posted phase. Ignored unless waiting.</summary>
    internal void Complete(TResult result)
    {
        if (_state != State.Waiting)
        {
            return;
        }

        _state = State.Completing;
        _result = result;
        Loop.PostOrRun(s_signal, this);
    }

    /// <summary>Completes the operation with <paramref name="error"/> (an <see cref="OperationCanceledException"/>: cancelled). Ignored unless waiting.</summary>
    internal void Fail(Exception error)
    {
        if (_state != State.Waiting)
        {
            return;
        }

        _state = State.Completing;
        _error = error;
        Loop.PostOrRun(s_signal, this);
    }

    /// <inheritdoc/>
    public TResult GetResult(short token) => _core.GetResult(token);

    /// <inheritdoc/>
    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    /// <inheritdoc/>
    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    /// <inheritdoc/>
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags & ~ValueTaskSourceOnCompletedFlags.UseSchedulingContext);

    // In a posted action on the loop thread: the awaiter's continuation runs here, inline.
    private void Signal()
    {
        _state = State.Idle;
        _registration.Dispose();
        _registration = default;
        _cancellationToken = default;
        if (_error is { } error)
        {
            _error = null;
            _core.SetException(error);
        }
        else
        {
            TResult result = _result!;
            _result = default;
            _core.SetResult(result);
        }
    }

    // On the loop thread, after the token fired on any thread: cancels the operation if it is still the one waiting with it.
    private void CancelIfRequested()
    {
        if (_state == State.Waiting && _cancellationToken.IsCancellationRequested)
        {
            _state = State.Completing;
            _error = new OperationCanceledException(_cancellationToken);
            Signal();
        }
    }
}
