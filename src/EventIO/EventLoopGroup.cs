namespace EventIO;

/// <summary>
/// N event loops, each with its own poller, timers and receive buffer, run on their own threads
/// (<c>loop-0</c>, <c>loop-1</c>, …), started and stopped together: one loop per core, as Netty's
/// <c>EventLoopGroup</c> and libuv servers with <c>SO_REUSEPORT</c>. A handler lives on exactly one loop.
/// </summary>
/// <remarks>
/// <para><b>Set-up:</b> create the group, add handlers to each loop from the creating thread (the loops'
/// thread until they start), then <see cref="Start"/> or <see cref="Run"/>. After that, reach a loop with
/// its <see cref="EventLoop.Post(Action)"/>; on a loop thread, <see cref="EventLoop.Current"/> is the loop
/// you are on.</para>
/// <para><b>Failure:</b> a loop whose <see cref="EventLoop.Run"/> throws (a broken poller) stops the others;
/// <see cref="Run"/> and <see cref="WaitForExit"/> then rethrow its exception.</para>
/// <para><b>Threading:</b> <see cref="Stop"/>, <see cref="Next"/> and the read-only members from any thread.</para>
/// </remarks>
public sealed class EventLoopGroup : IDisposable
{
    /// <summary>The most loops a group may have (1024).</summary>
    public const int MaxLoops = 1024;

    private readonly EventLoop[] _loops;
    private readonly Thread?[] _threads;
    private int _next = -1;
    private int _started;
    private Exception? _failure;

    /// <summary>Creates <paramref name="loopCount"/> loops with the same <paramref name="options"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="loopCount"/> is not in 1..1024.</exception>
    public EventLoopGroup(int loopCount, EventLoopOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(loopCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(loopCount, MaxLoops);
        _loops = new EventLoop[loopCount];
        _threads = new Thread?[loopCount];
        try
        {
            for (int i = 0; i < loopCount; i++)
            {
                _loops[i] = new EventLoop(options);
            }
        }
        catch
        {
            foreach (EventLoop? loop in _loops)
            {
                loop?.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// One loop per CPU this process may run on: its affinity mask and CPU quota (what
    /// <see cref="Environment.ProcessorCount"/> reports on Linux), not the machine's count.
    /// </summary>
    public static int DefaultLoopCount => Math.Clamp(Environment.ProcessorCount, 1, MaxLoops);

    /// <summary>The loops, in order.</summary>
    public IReadOnlyList<EventLoop> Loops => _loops;

    /// <summary>The number of loops.</summary>
    public int Count => _loops.Length;

    /// <summary>The exception that ended a loop's run (a broken poller), if any. Any thread.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>The loop at <paramref name="index"/>.</summary>
    public EventLoop this[int index] => _loops[index];

    /// <summary>The loops in turn (round-robin), for spreading work; any thread.</summary>
    public EventLoop Next() => _loops[(int)((uint)Interlocked.Increment(ref _next) % (uint)_loops.Length)];

    /// <summary>Starts one thread per loop, named <c>loop-N</c>, each running its loop until <see cref="Stop"/>.</summary>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The group is already started.");
        }

        for (int i = 0; i < _loops.Length; i++)
        {
            _threads[i] = new Thread(RunLoop) { Name = $"loop-{i}", IsBackground = true };
            _threads[i]!.Start(_loops[i]);
        }
    }

    /// <summary>Asks every loop to return from its run after the current turn. Any thread; idempotent.</summary>
    public void Stop()
    {
        foreach (EventLoop loop in _loops)
        {
            loop.Stop();
        }
    }

    /// <summary>Starts the loops and blocks until every one has stopped (after <see cref="Stop"/>, or a failure).</summary>
    /// <exception cref="AggregateException">A loop failed; its exception is inside.</exception>
    public void Run(CancellationToken cancellationToken = default)
    {
        Start();
        using CancellationTokenRegistration onCancel = cancellationToken.UnsafeRegister(static s => ((EventLoopGroup)s!).Stop(), this);
        WaitForExit(Timeout.InfiniteTimeSpan);
    }

    /// <summary>Waits until every loop thread has returned; false if <paramref name="timeout"/> passed first.</summary>
    /// <exception cref="AggregateException">A loop failed; its exception is inside.</exception>
    public bool WaitForExit(TimeSpan timeout)
    {
        long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        foreach (Thread? thread in _threads)
        {
            if (thread is null)
            {
                continue;
            }

            int left = deadline == long.MaxValue ? Timeout.Infinite : (int)Math.Clamp(deadline - Environment.TickCount64, 0, int.MaxValue);
            if (!thread.Join(left))
            {
                return false;
            }
        }

        if (Failure is { } failure)
        {
            throw new AggregateException("An event loop of the group failed.", failure);
        }

        return true;
    }

    /// <summary>Stops the loops, waits for their threads (5 s at most) and disposes every loop with what is left on it.</summary>
    public void Dispose()
    {
        Stop();
        try
        {
            WaitForExit(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // Already reported to whoever ran the group.
        }

        foreach (EventLoop loop in _loops)
        {
            loop.Dispose();
        }
    }

    private void RunLoop(object? state)
    {
        var loop = (EventLoop)state!;
        try
        {
            loop.Run();
        }
        catch (Exception ex)
        {
            Interlocked.CompareExchange(ref _failure, ex, null);
            Stop(); // started together, stopped together
        }
    }
}
