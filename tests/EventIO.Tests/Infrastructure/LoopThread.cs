using EventIO.Polling;

namespace EventIO.Tests.Infrastructure;

/// <summary>
/// Runs an <see cref="EventLoop"/> on its own named thread for a test. <see cref="Invoke{T}"/> runs code on
/// the loop thread and waits for it; <see cref="Dispose"/> stops the loop, joins the thread (with a deadline)
/// and disposes the loop, closing whatever handlers are left.
/// </summary>
public sealed class LoopThread : IDisposable
{
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _started = new();
    private Exception? _failure;

    public LoopThread(EventLoopOptions? options = null)
    {
        Loop = new EventLoop(options);
        _thread = new Thread(Main) { IsBackground = true, Name = "eventio-loop-test" };
        _thread.Start();
        if (!_started.Wait(TestTimeouts.Passing))
        {
            throw new TimeoutException("The loop thread did not start.");
        }
    }

    public LoopThread(PollerBackend backend)
        : this(new EventLoopOptions { Backend = backend })
    {
    }

    public EventLoop Loop { get; }

    /// <summary>The exception that ended Run, if any.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>Runs <paramref name="func"/> on the loop thread and returns its result (rethrowing its exception).</summary>
    public T Invoke<T>(Func<T> func)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool posted = Loop.Post(() =>
            {
                try
                {
                    tcs.SetResult(func());
                }
                catch (Exception ex)
                {
                    tcs.SetException(ex);
                }
            });
        ObjectDisposedException.ThrowIf(!posted, Loop);

        if (!((IAsyncResult)tcs.Task).AsyncWaitHandle.WaitOne(TestTimeouts.Passing))
        {
            throw new TimeoutException("The loop did not run the posted action in time (is it blocked?).");
        }

        return tcs.Task.GetAwaiter().GetResult();
    }

    /// <summary>Runs <paramref name="action"/> on the loop thread and waits for it.</summary>
    public void Invoke(Action action) => Invoke(() =>
    {
        action();
        return true;
    });

    public void Dispose()
    {
        Loop.Stop();
        bool joined = _thread.Join(TestTimeouts.Passing);
        if (joined)
        {
            Loop.Dispose();
        }

        _started.Dispose();
        Assert.True(joined, "The loop thread did not stop in time.");
        Assert.Null(Failure);
    }

    private void Main()
    {
        _started.Set();
        try
        {
            Loop.Run();
        }
        catch (Exception ex)
        {
            Volatile.Write(ref _failure, ex);
        }
    }
}
