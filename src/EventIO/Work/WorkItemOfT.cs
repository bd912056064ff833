namespace EventIO.Work;

/// <summary>Work with explicit state, so that neither the work nor its callback needs a closure.</summary>
internal sealed class WorkItem<TState, TResult>(
    EventLoop loop,
    TState state,
    Func<TState, TResult> work,
    Action<TState, WorkResult<TResult>> onCompleted) : WorkItem(loop)
{
    private TResult? _result;
    private Exception? _exception;

    internal override Delegate Callback => onCompleted;

    internal override Delegate Work => work;

    internal override bool Execute()
    {
        try
        {
            _result = work(state);
            return true;
        }
        catch (Exception ex)
        {
            _exception = ex;
            return false;
        }
    }

    internal override void Cancel() => _exception = new OperationCanceledException("The worker pool shut down before this work ran.");

    internal override void Complete() => onCompleted(state, new WorkResult<TResult>(_result, _exception));
}
