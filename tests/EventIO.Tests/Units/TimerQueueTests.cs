using EventIO.Timers;

namespace EventIO.Tests.Units;

/// <summary>The timer heap against a sorted reference list, under many random operations.</summary>
public sealed class TimerQueueTests
{
    [Fact]
    public void Empty_HasNoNextDue_AndDequeuesNothing()
    {
        var queue = new TimerQueue();
        Assert.Equal(0, queue.Count);
        Assert.Equal(long.MaxValue, queue.NextDue);
        Assert.False(queue.TryDequeueDue(long.MaxValue, long.MaxValue, out _));
    }

    [Fact]
    public void EqualDueTimes_DequeueInSequenceOrder()
    {
        var queue = new TimerQueue();
        var timers = Enumerable.Range(0, 40).Select(_ => NewTimer(queue, due: 100)).ToArray();
        foreach (TimerHandle t in timers.Reverse())
        {
            queue.Add(t); // insertion order must not matter, only the sequence
        }

        var order = new List<TimerHandle>();
        while (queue.TryDequeueDue(100, long.MaxValue, out TimerHandle? t))
        {
            order.Add(t);
        }

        Assert.Equal(timers, order);
    }

    [Fact]
    public void TryDequeueDue_RespectsNowAndTheSequenceLimit()
    {
        var queue = new TimerQueue();
        TimerHandle early = NewTimer(queue, due: 10);
        TimerHandle late = NewTimer(queue, due: 20);
        queue.Add(late);
        queue.Add(early);

        Assert.False(queue.TryDequeueDue(9, long.MaxValue, out _));
        Assert.False(queue.TryDequeueDue(10, early.Sequence, out _)); // scheduled at or after the limit
        Assert.True(queue.TryDequeueDue(10, early.Sequence + 1, out TimerHandle? first));
        Assert.Same(early, first);
        Assert.False(first.IsActive);
        Assert.False(queue.TryDequeueDue(19, long.MaxValue, out _));
        Assert.Equal(20, queue.NextDue);
        Assert.True(queue.TryDequeueDue(25, long.MaxValue, out TimerHandle? second));
        Assert.Same(late, second);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Remove_OfTimerNotInTheQueue_ReturnsFalse()
    {
        var queue = new TimerQueue();
        TimerHandle a = NewTimer(queue, due: 1);
        Assert.False(queue.Remove(a));
        queue.Add(a);
        Assert.True(queue.Remove(a));
        Assert.False(queue.Remove(a));
        Assert.False(a.IsActive);
        Assert.Equal(0, queue.Count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(42)]
    public void RandomOperations_MatchASortedReference_AndKeepTheHeapInvariant(int seed)
    {
        var random = new Random(seed);
        var queue = new TimerQueue();
        var reference = new List<TimerHandle>(); // kept sorted by (due, sequence)
        var removed = new List<TimerHandle>();

        for (int step = 0; step < 20_000; step++)
        {
            int op = random.Next(100);
            if (op < 45 || reference.Count == 0)
            {
                // Small due range: many ties, so sequence ordering is exercised.
                TimerHandle t = NewTimer(queue, due: random.Next(0, 200));
                queue.Add(t);
                Insert(reference, t);
            }
            else if (op < 70)
            {
                TimerHandle victim = reference[random.Next(reference.Count)];
                Assert.True(queue.Remove(victim));
                reference.Remove(victim);
                removed.Add(victim);
            }
            else if (op < 75 && removed.Count > 0)
            {
                Assert.False(queue.Remove(removed[random.Next(removed.Count)]));
            }
            else
            {
                long now = random.Next(-10, 220);
                long limit = random.Next(4) == 0 ? reference[random.Next(reference.Count)].Sequence : long.MaxValue;
                while (queue.TryDequeueDue(now, limit, out TimerHandle? t))
                {
                    TimerHandle expected = reference[0];
                    Assert.Same(expected, t);
                    Assert.True(t.Due <= now);
                    Assert.True(t.Sequence < limit);
                    reference.RemoveAt(0);
                    removed.Add(t);
                }

                Assert.True(reference.Count == 0 || reference[0].Due > now || reference[0].Sequence >= limit);
            }

            Assert.Equal(reference.Count, queue.Count);
            Assert.Equal(reference.Count == 0 ? long.MaxValue : reference[0].Due, queue.NextDue);
            if (step % 97 == 0)
            {
                AssertHeap(reference, removed);
            }
        }

        AssertHeap(reference, removed);

        // Drain: everything comes out in reference order.
        foreach (TimerHandle expected in reference)
        {
            Assert.True(queue.TryDequeueDue(long.MaxValue - 1, long.MaxValue, out TimerHandle? t));
            Assert.Same(expected, t);
        }

        Assert.Equal(0, queue.Count);
    }

    // Every scheduled timer knows a distinct index in 0..Count-1, and no timer sorts before its parent.
    private static void AssertHeap(List<TimerHandle> scheduled, List<TimerHandle> removed)
    {
        var byIndex = new TimerHandle?[scheduled.Count];
        foreach (TimerHandle t in scheduled)
        {
            Assert.True(t.IsActive);
            Assert.InRange(t.HeapIndex, 0, scheduled.Count - 1);
            Assert.Null(byIndex[t.HeapIndex]);
            byIndex[t.HeapIndex] = t;
        }

        for (int i = 1; i < byIndex.Length; i++)
        {
            TimerHandle child = byIndex[i]!, parent = byIndex[(i - 1) / 2]!;
            Assert.True(Compare(parent, child) < 0, $"heap order broken at index {i}");
        }

        Assert.All(removed, t => Assert.False(t.IsActive));
    }

    private static void Insert(List<TimerHandle> sorted, TimerHandle t)
    {
        int i = sorted.BinarySearch(t, Comparer<TimerHandle>.Create(Compare));
        Assert.True(i < 0);
        sorted.Insert(~i, t);
    }

    private static int Compare(TimerHandle a, TimerHandle b)
        => a.Due != b.Due ? a.Due.CompareTo(b.Due) : a.Sequence.CompareTo(b.Sequence);

    // The heap never touches the handle's loop; only Cancel does.
    private static TimerHandle NewTimer(TimerQueue queue, long due)
        => new(loop: null!, due, queue.NextSequence(), period: 0, static _ => { }, state: null);
}
