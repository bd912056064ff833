using BenchmarkDotNet.Attributes;
using EventIO.Timers;

namespace EventIO.Benchmarks;

/// <summary>
/// Timers: scheduling and cancelling 1,000 timers into a queue that already holds 10,000, and
/// scheduling 1,000 due timers then running them in one turn. Through the public API
/// (<see cref="EventLoop.CallLater(TimeSpan, Action{object?}, object?)"/>, <see cref="TimerHandle.Cancel"/>,
/// <see cref="EventLoop.RunOnce"/>) and through the internal <see cref="TimerQueue"/> alone with
/// pre-built handles, which isolates the heap from the handle allocation. Figures are per timer.
/// </summary>
/// <remarks>
/// The 10,000 background timers and the 1,000 far-future timers are due at pseudo-random times one to
/// two hours out, so new timers land at every depth of the heap; cancelling removes them from the
/// middle of the heap (each handle knows its index). The loop is not running, so this thread may
/// schedule and cancel as the loop thread would.
/// </remarks>
[MemoryDiagnoser]
public class TimerBenchmarks
{
    private const int Background = 10_000;
    private const int Batch = 1_000;

    private static readonly Action<object?> s_fire = static s => ((TimerBenchmarks)s!)._fired++;

    private readonly TimeSpan[] _delays = new TimeSpan[Batch];
    private readonly TimerHandle[] _scheduled = new TimerHandle[Batch];
    private readonly TimerHandle[] _farHandles = new TimerHandle[Batch];
    private readonly TimerHandle[] _dueHandles = new TimerHandle[Batch];
    private EventLoop _loop = null!;
    private TimerQueue _queue = null!;
    private long _fired;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(20_260_226);
        _loop = new EventLoop();
        _queue = new TimerQueue();
        long far = TimeSpan.FromHours(1).Ticks;
        for (int i = 0; i < Background; i++)
        {
            _loop.CallLater(TimeSpan.FromTicks(far + random.NextInt64(far)), s_fire, this);
            _queue.Add(new TimerHandle(_loop, far + random.NextInt64(far), _queue.NextSequence(), 0, s_fire, this));
        }

        for (int i = 0; i < Batch; i++)
        {
            _delays[i] = TimeSpan.FromTicks(far + random.NextInt64(far));
            _farHandles[i] = new TimerHandle(_loop, far + random.NextInt64(far), _queue.NextSequence(), 0, s_fire, this);
            _dueHandles[i] = new TimerHandle(_loop, 0, _queue.NextSequence(), 0, s_fire, this);
        }

        if (CallLaterThenRunDue() != Batch || _fired != Batch)
        {
            throw new InvalidOperationException("The due timers did not all run in one turn.");
        }

        if (TimerQueueAddThenDequeueDue() != Batch)
        {
            throw new InvalidOperationException("The queue did not hand back every due timer.");
        }

        CallLaterThenCancel();
        TimerQueueAddThenRemove();
        if (_loop.PendingTimers != Background || _queue.Count != Background)
        {
            throw new InvalidOperationException("Cancelled timers stayed in the queue.");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _loop.Dispose();

    /// <summary>CallLater 1,000 far-future timers, then Cancel each (in scheduling order); per timer.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void CallLaterThenCancel()
    {
        for (int i = 0; i < Batch; i++)
        {
            _scheduled[i] = _loop.CallLater(_delays[i], s_fire, this);
        }

        for (int i = 0; i < Batch; i++)
        {
            _scheduled[i].Cancel();
        }
    }

    /// <summary>CallLater 1,000 zero-delay timers, then one turn that runs them all; per timer.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public int CallLaterThenRunDue()
    {
        for (int i = 0; i < Batch; i++)
        {
            _loop.CallLater(TimeSpan.Zero, s_fire, this);
        }

        return _loop.RunOnce(TimeSpan.Zero);
    }

    /// <summary>The heap alone: add 1,000 pre-built far-future handles, then remove each; per timer.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void TimerQueueAddThenRemove()
    {
        for (int i = 0; i < Batch; i++)
        {
            _queue.Add(_farHandles[i]);
        }

        for (int i = 0; i < Batch; i++)
        {
            _queue.Remove(_farHandles[i]);
        }
    }

    /// <summary>The heap alone: add 1,000 pre-built due handles, then dequeue them in order; per timer.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public int TimerQueueAddThenDequeueDue()
    {
        for (int i = 0; i < Batch; i++)
        {
            _queue.Add(_dueHandles[i]);
        }

        int dequeued = 0;
        while (_queue.TryDequeueDue(1, long.MaxValue, out _))
        {
            dequeued++;
        }

        return dequeued;
    }
}
