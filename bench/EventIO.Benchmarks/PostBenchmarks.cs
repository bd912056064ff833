using BenchmarkDotNet.Attributes;

namespace EventIO.Benchmarks;

/// <summary>
/// <see cref="EventLoop.Post(Action{object?}, object?)"/>: the throughput of posting from
/// <see cref="Threads"/> threads to a loop running on its own thread, and the cost of a post and the
/// turn that runs it when one thread does both.
/// </summary>
/// <remarks>
/// <para><see cref="PostFromThreads"/>: per operation the benchmark thread and <c>Threads - 1</c> helper
/// threads (woken by a semaphore) each post their share of 10,000 allocation-free actions; the operation
/// ends when the loop has run the 10,000th (the last one sets an event the benchmark thread waits on).
/// Figures are per action, including the loop's share of the work (dequeue, eventfd drain, run).</para>
/// <para>The single-thread benchmarks use a second loop that nobody runs in the background; they do not
/// depend on <see cref="Threads"/>, and their repeated rows are a measure of the noise.</para>
/// </remarks>
[MemoryDiagnoser]
public class PostBenchmarks
{
    private const int ActionsPerOperation = 10_000;
    private const int Burst = 100;

    private static readonly Action<object?> s_countThreaded = static s => ((PostBenchmarks)s!).OnThreadedAction();
    private static readonly Action<object?> s_countSingle = static s => ((PostBenchmarks)s!)._singleCount++;

    private readonly ManualResetEventSlim _done = new();
    private EventLoop _loop = null!;
    private Thread _loopThread = null!;
    private Thread[] _helpers = [];
    private SemaphoreSlim[] _go = [];
    private volatile bool _stopping;
    private int _share;
    private int _count;       // loop thread only, reset between operations
    private EventLoop _single = null!;
    private long _singleCount;

    /// <summary>Threads posting at once (the benchmark thread is one of them).</summary>
    [Params(1, 2, 4)]
    public int Threads { get; set; }

    [GlobalSetup(Target = nameof(PostFromThreads))]
    public void SetupThreaded()
    {
        _loop = new EventLoop();
        _loopThread = new Thread(() => _loop.Run()) { IsBackground = true, Name = "bench-loop" };
        _loopThread.Start();
        _share = ActionsPerOperation / Threads;
        _helpers = new Thread[Threads - 1];
        _go = new SemaphoreSlim[Threads - 1];
        for (int i = 0; i < _helpers.Length; i++)
        {
            _go[i] = new SemaphoreSlim(0);
            _helpers[i] = new Thread(HelperMain) { IsBackground = true, Name = $"bench-poster-{i + 1}" };
            _helpers[i].Start(_go[i]);
        }

        PostFromThreads();
        if (Volatile.Read(ref _count) != ActionsPerOperation)
        {
            throw new InvalidOperationException("The loop did not run every posted action.");
        }
    }

    [GlobalCleanup(Target = nameof(PostFromThreads))]
    public void CleanupThreaded()
    {
        _stopping = true;
        foreach (SemaphoreSlim go in _go)
        {
            go.Release();
        }

        foreach (Thread helper in _helpers)
        {
            helper.Join();
        }

        _loop.Stop();
        _loopThread.Join();
        _loop.Dispose();
        foreach (SemaphoreSlim go in _go)
        {
            go.Dispose();
        }

        _done.Dispose();
    }

    [GlobalSetup(Targets = [nameof(PostThenRunOnce), nameof(PostBurstThenRunOnce)])]
    public void SetupSingle() => _single = new EventLoop();

    [GlobalCleanup(Targets = [nameof(PostThenRunOnce), nameof(PostBurstThenRunOnce)])]
    public void CleanupSingle()
    {
        if (_singleCount == 0)
        {
            throw new InvalidOperationException("No posted action ran.");
        }

        _single.Dispose();
        _done.Dispose();
    }

    /// <summary>10,000 posts shared among <see cref="Threads"/> threads, run by the loop on its own thread; per action.</summary>
    [Benchmark(OperationsPerInvoke = ActionsPerOperation)]
    public void PostFromThreads()
    {
        _done.Reset();
        _count = 0; // the loop is idle: the last action of the previous operation has run
        foreach (SemaphoreSlim go in _go)
        {
            go.Release();
        }

        PostShare();
        _done.Wait();
    }

    /// <summary>One post (an eventfd write), then one turn on the same thread (wait, drain, run).</summary>
    [Benchmark]
    public int PostThenRunOnce()
    {
        _single.Post(s_countSingle, this);
        return _single.RunOnce(TimeSpan.Zero);
    }

    /// <summary>100 posts (one eventfd write: wake-ups coalesce), then one turn that runs them all; per action.</summary>
    [Benchmark(OperationsPerInvoke = Burst)]
    public int PostBurstThenRunOnce()
    {
        for (int i = 0; i < Burst; i++)
        {
            _single.Post(s_countSingle, this);
        }

        return _single.RunOnce(TimeSpan.Zero);
    }

    private void HelperMain(object? state)
    {
        var go = (SemaphoreSlim)state!;
        while (true)
        {
            go.Wait();
            if (_stopping)
            {
                return;
            }

            PostShare();
        }
    }

    private void PostShare()
    {
        for (int i = 0; i < _share; i++)
        {
            _loop.Post(s_countThreaded, this);
        }
    }

    private void OnThreadedAction()
    {
        if (++_count == ActionsPerOperation)
        {
            _done.Set();
        }
    }
}
