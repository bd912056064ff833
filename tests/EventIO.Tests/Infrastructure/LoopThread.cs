using EventIO.Polling;

namespace EventIO.Tests.Infrastructure;

/// <summary>
/// Runs event loops on their own threads for a test: one (the usual case) or a group. <see cref="Invoke{T}"/>
/// runs code on the first loop's thread and waits for it; <see cref="Dispose"/> stops the loops, joins their
/// threads (with a deadline) and disposes them, closing whatever handlers are left.
/// </summary>
public sealed class LoopThread : IDisposable
{
    private readonly EventLoopGroup _group;

    public LoopThread(EventLoopOptions? options = null, int loops = 1)
    {
        _group = new EventLoopGroup(loops, options);
        _group.Start();
    }

    public LoopThread(PollerBackend backend, int loops = 1)
        : this(new EventLoopOptions { Backend = backend }, loops)
    {
    }

    /// <summary>The first loop (the only one, usually).</summary>
    public EventLoop Loop => _group[0];

    /// <summary>Every loop.</summary>
    public IReadOnlyList<EventLoop> Loops => _group.Loops;

    /// <summary>The exception that ended a loop's Run, if any.</summary>
    public Exception? Failure => _group.Failure;

    /// <summary>Runs <paramref name="func"/> on the first loop's thread and returns its result (rethrowing its exception).</summary>
    public T Invoke<T>(Func<T> func) => InvokeOn(Loop, func);

    /// <summary>Runs <paramref name="action"/> on the first loop's thread and waits for it.</summary>
    public void Invoke(Action action) => Invoke(() =>
    {
        action();
        return true;
    });

    /// <summary>Runs <paramref name="func"/> on <paramref name="loop"/>'s thread and returns its result (rethrowing its exception).</summary>
    public static T InvokeOn<T>(EventLoop loop, Func<T> func)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool posted = loop.Post(() =>
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
        ObjectDisposedException.ThrowIf(!posted, loop);

        if (!((IAsyncResult)tcs.Task).AsyncWaitHandle.WaitOne(TestTimeouts.Passing))
        {
            throw new TimeoutException("The loop did not run the posted action in time (is it blocked?).");
        }

        return tcs.Task.GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        _group.Stop();
        bool joined;
        try
        {
            joined = _group.WaitForExit(TestTimeouts.Passing);
        }
        catch (AggregateException)
        {
            joined = true; // reported below, through Failure
        }

        if (joined)
        {
            _group.Dispose();
        }

        Assert.True(joined, "A loop thread did not stop in time.");
        Assert.Null(Failure);
    }
}
