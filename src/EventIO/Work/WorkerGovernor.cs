using System.Diagnostics;
using EventIO.Interop;

namespace EventIO.Work;

/// <summary>
/// The thread behind <see cref="WorkerPriority.Adaptive"/>: decides the priority each work item runs at,
/// promotes starving items from SCHED_IDLE to SCHED_OTHER and sends them back when a loop has to wait for
/// them (<see cref="AdaptiveWorkerPolicy"/>). It samples only while work is queued or running and sleeps on
/// an event otherwise.
/// </summary>
/// <remarks>
/// <para>Workers wait for work, and take the pool's queue lock, at the normal policy; only the item itself
/// runs under SCHED_IDLE. An idle-priority thread preempted inside a lock would hold it for as long as
/// other programs keep the CPU (a priority inversion that stalled the loop or this governor for 100s of ms),
/// so workers never take a lock while idle: each worker's state is one int changed by compare-and-swap, a
/// priority change marks it in transition (<see cref="Promoting"/>, <see cref="Demoting"/>) for the length
/// of one system call, and only the loops (normal priority) wake the governor.</para>
/// <para>Without the privilege to leave SCHED_IDLE (probed once at start: CAP_SYS_NICE, or RLIMIT_NICE ≥ 20 −
/// <see cref="AdaptiveWorkerPolicy.PromotedNice"/>), items start at the normal policy instead and are sent to
/// SCHED_IDLE (for good) when a loop waits; such a worker is retired after its item and this governor starts
/// a fresh one in its place, so the next items start at the normal policy again once the hold is over.</para>
/// </remarks>
internal sealed class WorkerGovernor : IDisposable
{
    private const int Free = 0;      // waiting for work
    private const int Running = 1;   // running an item under SCHED_IDLE
    private const int Promoting = 2; // being moved to SCHED_OTHER
    private const int Promoted = 3;  // running an item under SCHED_OTHER
    private const int Demoting = 4;  // being moved back to SCHED_IDLE
    private const int MaxHoldDoublings = 5;

    private readonly WorkerPool _pool;
    private readonly AdaptiveWorkerPolicy _policy;
    private readonly int _maxPromoted;
    private readonly int _cpus;
    private readonly int[] _tids;
    private readonly int[] _state;
    private readonly long[] _startedAt;   // written by the worker before it publishes Running
    private readonly bool[] _watched;     // governor only: has a CPU baseline from an earlier sample of this run
    private readonly long[] _lastCpu;     // governor only
    private readonly long[] _lastStart;   // governor only: the run the baseline belongs to
    private readonly bool[] _blocked;     // governor only: this run was found blocked (not runnable) when it looked starved
    private readonly long[] _startCpu;    // CPU clock when the item started at (or was promoted to) the normal policy
    private readonly System.Collections.Concurrent.ConcurrentStack<WorkItem> _handedOff = new(); // results of workers stuck under SCHED_IDLE
    private readonly object _loopsLock = new(); // the governor and a loop adding itself: both normal priority
    private readonly List<SchedStatFile> _loops = [];
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly Thread _thread;
    private volatile bool _stopped;
    private int _sleeping;
    private int _busyCount;
    private int _promotedCount;
    private volatile int[] _loopTids = []; // copy-on-write: the queuing path checks it without a lock
    private long _finishedPromotedCpu;      // CPU of promoted items that finished since the last sample
    private int _finishedPromoted;
    private readonly bool[] _spent;       // unprivileged: this worker's thread is under SCHED_IDLE for good
    private readonly bool[] _replace;     // a retired worker's slot waits for a fresh thread
    private readonly bool _canLeaveIdle;
    private readonly bool _refused;
    private int _holdDoublings;
    private long _holdUntil;
    private long _startPromotedUntil;
    private long _lastSample;
    private long _samples;
    private long _servingUntil;             // the sample up to which the loops count as serving
    private int _contended;                 // samples in a row whose rule said Demote
    private long _promotions;
    private long _demotions;
    private long _retired;

    /// <summary>Creates the governor for <paramref name="pool"/>'s <paramref name="workerCount"/> workers and starts its thread.</summary>
    internal WorkerGovernor(WorkerPool pool, int workerCount, AdaptiveWorkerPolicy policy)
    {
        _pool = pool;
        _policy = policy;
        _cpus = Math.Max(1, Environment.ProcessorCount);
        _maxPromoted = policy.MaxPromoted > 0 ? policy.MaxPromoted : _cpus;
        _tids = new int[workerCount];
        _state = new int[workerCount];
        _startedAt = new long[workerCount];
        _watched = new bool[workerCount];
        _lastCpu = new long[workerCount];
        _lastStart = new long[workerCount];
        _startCpu = new long[workerCount];
        _blocked = new bool[workerCount];
        _spent = new bool[workerCount];
        _replace = new bool[workerCount];
        _canLeaveIdle = ProbeCanLeaveIdle(policy.PromotedNice);
        _refused = !_canLeaveIdle;
        _thread = new Thread(Run) { IsBackground = true, Name = "eventio-governor" };
        _thread.Start();
    }

    /// <summary>Promotions made so far. Any thread.</summary>
    internal long Promotions => Interlocked.Read(ref _promotions);

    /// <summary>Promoted workers sent back to SCHED_IDLE because a loop waited. Any thread.</summary>
    internal long Demotions => Interlocked.Read(ref _demotions);

    /// <summary>True if the process may not leave SCHED_IDLE (no CAP_SYS_NICE, RLIMIT_NICE too low): items start at the normal policy instead.</summary>
    internal bool PromotionRefused => _refused;

    /// <summary>Worker threads retired after their item ran under SCHED_IDLE for good (without privilege). Any thread.</summary>
    internal long Retired => Interlocked.Read(ref _retired);

    /// <summary>
    /// Worker <paramref name="index"/> is kernel thread <paramref name="tid"/> (0: it has exited), waiting at
    /// the normal policy and <see cref="AdaptiveWorkerPolicy.PromotedNice"/>. Its own thread.
    /// </summary>
    internal void RegisterWorker(int index, int tid)
    {
        if (tid > 0 && _policy.PromotedNice != 0)
        {
            ThreadScheduling.TrySetNice(_policy.PromotedNice);
        }

        _spent[index] = false;
        Volatile.Write(ref _tids[index], tid);
    }

    /// <summary>
    /// Work was queued by kernel thread <paramref name="tid"/> (a loop's): its CPU waits are watched from now on,
    /// and a sleeping governor wakes. The queuing thread, after the item is queued.
    /// </summary>
    internal void WorkQueued(int tid)
    {
        if (tid > 0 && Array.IndexOf(_loopTids, tid) < 0)
        {
            WatchLoop(tid);
        }

        if (Interlocked.CompareExchange(ref _sleeping, 0, 1) == 1) // a full fence: the item is queued before the flag is read
        {
            _wake.Set();
        }
    }

    /// <summary>
    /// A worker took an item from the queue: counted as running at once, under the queue's lock, so that the
    /// governor never sees an empty queue and no running item in between and falls asleep.
    /// </summary>
    internal void ItemDequeued() => Interlocked.Increment(ref _busyCount);

    /// <summary>
    /// Worker <paramref name="index"/> starts an item: under SCHED_IDLE, or at the normal policy if a promotion
    /// was recent (without privilege: unless a loop waited recently). Its own thread; lock-free.
    /// </summary>
    internal void ItemStarted(int index)
    {
        long now = Stopwatch.GetTimestamp();
        _startedAt[index] = now;
        bool normal;
        if (_canLeaveIdle)
        {
            normal = now < Volatile.Read(ref _startPromotedUntil);
            if (normal && Interlocked.Increment(ref _promotedCount) > _maxPromoted)
            {
                Interlocked.Decrement(ref _promotedCount);
                normal = false;
            }
        }
        else
        {
            normal = now >= Volatile.Read(ref _holdUntil);
            if (normal)
            {
                Interlocked.Increment(ref _promotedCount);
            }
        }

        if (normal)
        {
            _startCpu[index] = ThreadScheduling.ThreadCpuNanoseconds(Volatile.Read(ref _tids[index]));
            Volatile.Write(ref _state[index], Promoted);
            return;
        }

        ThreadScheduling.TrySetIdlePolicy(Volatile.Read(ref _tids[index]));
        _spent[index] = !_canLeaveIdle;
        Volatile.Write(ref _state[index], Running);
    }

    /// <summary>
    /// Worker <paramref name="index"/> finished <paramref name="item"/>: it returns to the normal policy and then
    /// posts the result (posting takes the loop's queue lock, never to be held under SCHED_IDLE). A worker that
    /// may not leave SCHED_IDLE hands the result to this governor to post instead, and must exit. Its own
    /// thread; lock-free.
    /// </summary>
    /// <returns>True if the worker must exit (it may not leave SCHED_IDLE): the governor starts a fresh one.</returns>
    internal bool ItemFinished(int index, WorkItem item)
    {
        var spin = default(SpinWait);
        bool retire = false;
        while (true)
        {
            int state = Volatile.Read(ref _state[index]);
            if (state == Running && Interlocked.CompareExchange(ref _state[index], Free, Running) == Running)
            {
                retire = _spent[index] || !ThreadScheduling.TrySetNormalPolicy(Volatile.Read(ref _tids[index]), _policy.PromotedNice);
                break;
            }

            if (state == Promoted && Interlocked.CompareExchange(ref _state[index], Free, Promoted) == Promoted)
            {
                long cpu = ThreadScheduling.ThreadCpuNanoseconds(Volatile.Read(ref _tids[index]));
                Interlocked.Add(ref _finishedPromotedCpu, Math.Max(0, cpu - _startCpu[index]));
                Interlocked.Increment(ref _finishedPromoted);
                Interlocked.Decrement(ref _promotedCount);
                break;
            }

            spin.SpinOnce(); // the governor is changing this worker's priority: one system call
        }

        if (retire)
        {
            _handedOff.Push(item); // lock-free; posted by the governor within one sample
            if (_stopped)
            {
                PostHandedOff(); // the governor has stopped (shutdown): nobody else will post it
            }

            Interlocked.Increment(ref _retired);
            Volatile.Write(ref _tids[index], 0);
            Volatile.Write(ref _replace[index], true);
        }
        else
        {
            item.PostCompletion(); // false only when its loop is gone: nobody is left to tell
        }

        Interlocked.Decrement(ref _busyCount); // after the hand-off: the governor reads the count first
        return retire;
    }

    /// <summary>Stops the governor thread (within one sample interval). Idempotent; any thread.</summary>
    public void Dispose()
    {
        _stopped = true;
        _wake.Set();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }

        PostHandedOff(); // anything handed over while it stopped

        lock (_loopsLock)
        {
            foreach (SchedStatFile loop in _loops)
            {
                loop.Dispose();
            }

            _loops.Clear();
        }
    }

    private void WatchLoop(int tid)
    {
        lock (_loopsLock)
        {
            if (_stopped || Array.IndexOf(_loopTids, tid) >= 0)
            {
                return;
            }

            SchedStatFile? file = SchedStatFile.TryOpen(tid);
            if (file is not null && file.TryReadDelta(out _, out _)) // the first read: the baseline
            {
                _loops.Add(file);
            }
            else
            {
                file?.Dispose();
            }

            _loopTids = [.. _loopTids, tid]; // even if unreadable: not tried again on every item
        }
    }

    // The running count first: a worker hands off its result before it stops counting as running.
    private bool HasWork => Volatile.Read(ref _busyCount) > 0 || !_handedOff.IsEmpty || _pool.QueuedCount > 0;

    private void Run()
    {
        while (!_stopped)
        {
            _wake.Reset();
            Interlocked.Exchange(ref _sleeping, 1);
            if (!HasWork)
            {
                _wake.Wait();
            }

            Volatile.Write(ref _sleeping, 0);
            PostHandedOff();
            ReplaceRetired();
            Sample(decide: false); // a fresh baseline after sleeping
            while (!_stopped && HasWork)
            {
                Thread.Sleep(_policy.SampleInterval);
                PostHandedOff();
                ReplaceRetired();
                Sample(decide: true);
            }

            PostHandedOff();
        }
    }

    private void PostHandedOff()
    {
        while (_handedOff.TryPop(out WorkItem? item))
        {
            item.PostCompletion();
        }
    }

    // Fresh threads for retired workers, started from this normal-priority thread (a thread inherits its
    // creator's policy).
    private void ReplaceRetired()
    {
        for (int i = 0; i < _replace.Length; i++)
        {
            if (Volatile.Read(ref _replace[i]))
            {
                Volatile.Write(ref _replace[i], false);
                _pool.StartWorker(i);
            }
        }
    }

    private void Sample(bool decide)
    {
        if (++_samples % 20 == 0)
        {
            Array.Clear(_blocked); // look again now and then: an item that waited on I/O may be computing now
        }

        long now = Stopwatch.GetTimestamp();
        double elapsed = (now - _lastSample) * (1e9 / Stopwatch.Frequency);
        _lastSample = now;
        long loopCpu = 0;
        long loopWait = 0;
        bool loopStarved = false;
        bool promotedNow = decide && Volatile.Read(ref _promotedCount) > 0;
        lock (_loopsLock)
        {
            for (int i = _loops.Count - 1; i >= 0; i--)
            {
                if (!_loops[i].TryReadDelta(out long cpu, out long wait))
                {
                    _loops[i].Dispose(); // the loop's thread is gone
                    _loops.RemoveAt(i);
                    continue;
                }

                // A loop that never got on a CPU in the sample has no wait counted yet (the kernel adds it
                // when the thread runs): runnable now with next to no CPU means it is waiting still.
                loopStarved |= promotedNow && cpu < elapsed / 20 && _loops[i].IsRunnable();
                loopCpu += cpu;
                loopWait = Math.Max(loopWait, wait); // the loop that waited longest
            }
        }

        int watched = 0;
        int promotedRunning = 0;
        long workerCpu = 0;
        long promotedCpu = 0;
        for (int i = 0; i < _state.Length; i++)
        {
            int state = Volatile.Read(ref _state[i]);
            int tid = Volatile.Read(ref _tids[i]);
            if (state is not (Running or Promoted) || tid <= 0)
            {
                _watched[i] = false;
                continue;
            }

            long cpu = ThreadScheduling.ThreadCpuNanoseconds(tid);
            if (cpu < 0)
            {
                continue;
            }

            long started = _startedAt[i];
            if (_watched[i] && _lastStart[i] == started)
            {
                long used = cpu - _lastCpu[i];
                workerCpu += used;
                watched++;
                if (state == Promoted)
                {
                    promotedRunning++;
                    promotedCpu += used;
                }
            }
            else if (state == Promoted)
            {
                promotedRunning++; // started promoted since the last sample: what it used so far
                promotedCpu += Math.Max(0, cpu - _startCpu[i]);
            }

            if (_lastStart[i] != started)
            {
                _blocked[i] = false; // a new item
            }

            _lastCpu[i] = cpu;
            _lastStart[i] = started;
            _watched[i] = true;
        }

        promotedRunning += Interlocked.Exchange(ref _finishedPromoted, 0); // short promoted items count too
        promotedCpu += Interlocked.Exchange(ref _finishedPromotedCpu, 0);

        if (!decide)
        {
            return;
        }

        bool mayPromote = !_refused && Volatile.Read(ref _promotedCount) < _maxPromoted && now >= _holdUntil;
        if (loopCpu >= _policy.LoopBusyShare * elapsed)
        {
            _servingUntil = _samples + 4; // the loops count as serving for the next few samples, starved ones included
        }

        // Only a loop that was serving counts as starved: a nearly idle loop woken once behind another program
        // is runnable with no CPU too, and sending promoted work back for it cost a 1 s hold.
        bool starved = loopStarved && _samples <= _servingUntil;
        var sample = new GovernorSample(elapsed, _cpus, loopCpu, loopWait, watched, promotedRunning, workerCpu, promotedCpu, mayPromote, starved);
        GovernorAction action = _policy.Decide(sample);

        // One loop wake-up that waited behind another program can land in the sample where promoted work
        // started; contention the promoted work causes lasts: it takes two samples in a row.
        _contended = action == GovernorAction.Demote ? _contended + 1 : 0;
        if (action == GovernorAction.Demote && _contended < 2)
        {
            action = GovernorAction.None;
        }

        switch (action)
        {
            case GovernorAction.Demote:
                for (int i = 0; i < _state.Length; i++)
                {
                    if (TryDemote(i))
                    {
                        Interlocked.Increment(ref _demotions);
                    }
                }

                Volatile.Write(ref _holdUntil, now + (long)(_policy.HoldAfterLoopWait.TotalSeconds * Stopwatch.Frequency * (1 << _holdDoublings)));
                _holdDoublings = Math.Min(_holdDoublings + 1, MaxHoldDoublings);
                Volatile.Write(ref _startPromotedUntil, 0);
                break;
            case GovernorAction.Promote:
                PromoteOldestStarving();
                Volatile.Write(ref _startPromotedUntil, now + (long)(_policy.StartPromotedFor.TotalSeconds * Stopwatch.Frequency));
                break;
            default:
                if (_holdDoublings > 0 && now > _holdUntil + (long)(10 * _policy.HoldAfterLoopWait.TotalSeconds * Stopwatch.Frequency))
                {
                    _holdDoublings = 0; // quiet for a while: the next hold starts short again
                }

                break;
        }
    }

    // The watched idle-policy workers, longest running first.
    private void PromoteOldestStarving()
    {
        while (!_refused && Volatile.Read(ref _promotedCount) < _maxPromoted)
        {
            int oldest = -1;
            for (int i = 0; i < _state.Length; i++)
            {
                if (_watched[i] && Volatile.Read(ref _state[i]) == Running && !_blocked[i] && (oldest < 0 || _startedAt[i] < _startedAt[oldest]))
                {
                    oldest = i;
                }
            }

            if (oldest < 0)
            {
                return;
            }

            if (!SchedStatFile.IsThreadRunnable(Volatile.Read(ref _tids[oldest])))
            {
                _blocked[oldest] = true; // waiting on I/O, a lock or a sleep, not on a CPU: promotion would not help
                continue;
            }

            if (!TryPromote(oldest))
            {
                return;
            }
        }
    }

    // The governor only.
    private bool TryPromote(int index)
    {
        if (_refused || Interlocked.CompareExchange(ref _state[index], Promoting, Running) != Running)
        {
            return false;
        }

        int tid = Volatile.Read(ref _tids[index]);
        bool promoted = false;
        if (Interlocked.Increment(ref _promotedCount) <= _maxPromoted)
        {
            _startCpu[index] = ThreadScheduling.ThreadCpuNanoseconds(tid);
            promoted = ThreadScheduling.TrySetNormalPolicy(tid, _policy.PromotedNice);
            if (!promoted)
            {
                ThreadScheduling.TrySetIdlePolicy(tid); // half done (policy changed, nice refused): back to where it was
            }
        }

        if (promoted)
        {
            Interlocked.Increment(ref _promotions);
            Volatile.Write(ref _state[index], Promoted);
            return true;
        }

        Interlocked.Decrement(ref _promotedCount);
        Volatile.Write(ref _state[index], Running);
        return false;
    }

    // A throwaway thread tries the round trip SCHED_IDLE -> SCHED_OTHER: the only reliable test (in a user
    // namespace the capability sets can show CAP_SYS_NICE while the kernel still refuses).
    private static bool ProbeCanLeaveIdle(int nice)
    {
        bool can = false;
        var probe = new Thread(() => can = (nice == 0 || ThreadScheduling.TrySetNice(nice))
            && ThreadScheduling.TrySetIdlePolicy(out int tid) && ThreadScheduling.TrySetNormalPolicy(tid, nice))
        {
            IsBackground = true,
            Name = "eventio-probe",
        };
        probe.Start();
        probe.Join();
        return can;
    }

    // The governor only.
    private bool TryDemote(int index)
    {
        if (Interlocked.CompareExchange(ref _state[index], Demoting, Promoted) != Promoted)
        {
            return false;
        }

        ThreadScheduling.TrySetIdlePolicy(Volatile.Read(ref _tids[index]));
        _spent[index] = !_canLeaveIdle;
        Interlocked.Decrement(ref _promotedCount);
        Volatile.Write(ref _state[index], Running);
        return true;
    }
}
