using System.Diagnostics.CodeAnalysis;

namespace EventIO.Timers;

/// <summary>
/// A binary min-heap of timers ordered by (due time, sequence): O(log n) schedule and cancel, O(1) peek.
/// Equal due times run in the order they were scheduled. Each handle knows its heap index, so a
/// cancelled timer leaves the heap at once instead of lingering until it would have fired.
/// </summary>
/// <remarks><b>Threading:</b> loop thread only.</remarks>
internal sealed class TimerQueue
{
    private TimerHandle[] _heap = new TimerHandle[16];
    private long _nextSequence;

    /// <summary>The number of scheduled timers.</summary>
    internal int Count { get; private set; }

    /// <summary>Issues the sequence number that orders timers with equal due times.</summary>
    internal long NextSequence() => _nextSequence++;

    /// <summary>The earliest due time, or <see cref="long.MaxValue"/> when empty.</summary>
    internal long NextDue => Count == 0 ? long.MaxValue : _heap[0].Due;

    /// <summary>Adds a timer that is not in the heap (its <see cref="TimerHandle.Sequence"/> already issued).</summary>
    internal void Add(TimerHandle timer)
    {
        if (Count == _heap.Length)
        {
            Array.Resize(ref _heap, Count * 2);
        }

        int i = Count++;
        _heap[i] = timer;
        timer.HeapIndex = i;
        SiftUp(i);
    }

    /// <summary>Removes <paramref name="timer"/>; false if it was not scheduled.</summary>
    internal bool Remove(TimerHandle timer)
    {
        int i = timer.HeapIndex;
        if (i < 0 || i >= Count || !ReferenceEquals(_heap[i], timer))
        {
            return false;
        }

        int last = --Count;
        timer.HeapIndex = -1;
        if (i != last)
        {
            _heap[i] = _heap[last];
            _heap[i].HeapIndex = i;
            _heap[last] = null!;
            SiftDown(i);
            SiftUp(i);
        }
        else
        {
            _heap[last] = null!;
        }

        return true;
    }

    /// <summary>
    /// Removes and returns the earliest timer if it is due at <paramref name="now"/> and was scheduled
    /// before sequence number <paramref name="sequenceLimit"/>.
    /// </summary>
    internal bool TryDequeueDue(long now, long sequenceLimit, [NotNullWhen(true)] out TimerHandle? timer)
    {
        if (Count == 0 || _heap[0].Due > now || _heap[0].Sequence >= sequenceLimit)
        {
            timer = null;
            return false;
        }

        timer = _heap[0];
        Remove(timer);
        return true;
    }

    /// <summary>
    /// Takes the next timer to run at <paramref name="now"/> among those scheduled before sequence number
    /// <paramref name="sequenceLimit"/>, skipping cancelled ones. A repeating timer goes back in the heap for
    /// its next run before it is returned (so its callback may cancel it); a loop that fell behind (a long
    /// callback, a stopped process) skips the missed runs instead of firing them in a burst.
    /// </summary>
    internal bool TryTakeDue(long now, long sequenceLimit, [NotNullWhen(true)] out TimerHandle? timer)
    {
        while (TryDequeueDue(now, sequenceLimit, out timer))
        {
            if (timer.IsCancelled)
            {
                continue; // cancelled from another thread: its posted removal will find nothing
            }

            if (timer.Period > 0)
            {
                long next = MonotonicClock.Add(timer.Due, timer.Period);
                timer.Due = next > now ? next : MonotonicClock.Add(now, timer.Period);
                timer.Sequence = NextSequence();
                Add(timer);
            }

            return true;
        }

        return false;
    }

    /// <summary>Drops every timer.</summary>
    internal void Clear()
    {
        for (int i = 0; i < Count; i++)
        {
            _heap[i].HeapIndex = -1;
            _heap[i] = null!;
        }

        Count = 0;
    }

    private static bool Less(TimerHandle a, TimerHandle b)
        => a.Due < b.Due || (a.Due == b.Due && a.Sequence < b.Sequence);

    private void SiftUp(int i)
    {
        TimerHandle t = _heap[i];
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (!Less(t, _heap[parent]))
            {
                break;
            }

            _heap[i] = _heap[parent];
            _heap[i].HeapIndex = i;
            i = parent;
        }

        _heap[i] = t;
        t.HeapIndex = i;
    }

    private void SiftDown(int i)
    {
        TimerHandle t = _heap[i];
        while (true)
        {
            int child = (2 * i) + 1;
            if (child >= Count)
            {
                break;
            }

            if (child + 1 < Count && Less(_heap[child + 1], _heap[child]))
            {
                child++;
            }

            if (!Less(_heap[child], t))
            {
                break;
            }

            _heap[i] = _heap[child];
            _heap[i].HeapIndex = i;
            i = child;
        }

        _heap[i] = t;
        t.HeapIndex = i;
    }
}
