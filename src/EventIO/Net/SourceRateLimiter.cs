using System.Diagnostics;
using System.Numerics;

namespace EventIO.Net;

/// <summary>
/// A token bucket per source address in a table of fixed size: <see cref="TryTake"/> says whether a
/// datagram from a source may be answered. The least recently seen source is forgotten to make room for a
/// new one, so a flood of spoofed random sources costs one table, never more memory. O(1) per call,
/// nothing allocated after construction.
/// </summary>
/// <remarks>
/// <para><b>The bucket</b> is kept as one timestamp per source (the generic cell rate algorithm, GCRA):
/// the time at which the source's bucket would be full again. A datagram is allowed when that time is
/// less than <c>burst</c> intervals ahead of now, and then moves it one interval (1/rate s) further. Same
/// decisions as a bucket of <c>burst</c> tokens refilled at <c>rate</c> per second, with no refill step.</para>
/// <para><b>Forgetting:</b> a source evicted and seen again starts with a full bucket. Evicting a source
/// takes <see cref="Capacity"/> other sources in between, so a spoofed victim gets at most
/// <c>burst</c> extra replies per <see cref="Capacity"/> datagrams of a random flood.</para>
/// <para><b>Hashing</b> is seeded per process (<see cref="HashCode"/>), so chains cannot be made long by
/// choosing colliding addresses.</para>
/// <para><b>Threading:</b> one thread (a loop's).</para>
/// </remarks>
internal sealed class SourceRateLimiter
{
    private const int None = -1;

    private readonly Entry[] _entries;
    private readonly int[] _buckets; // head of each hash chain, None when empty
    private readonly int _mask;
    private readonly long _interval;  // Stopwatch ticks per token
    private readonly long _tolerance; // how far ahead of now the bucket-full time may be: (burst - 1) intervals
    private int _count;
    private int _newest = None;       // head of the recency list
    private int _oldest = None;       // its tail: the next to be evicted

    /// <summary>At most <paramref name="rate"/> per second per source after a burst of <paramref name="burst"/>, for up to <paramref name="capacity"/> sources.</summary>
    internal SourceRateLimiter(int rate, int burst, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rate, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Rate = rate;
        Burst = burst;
        Capacity = capacity;
        _interval = Math.Max(1, Stopwatch.Frequency / rate);
        _tolerance = (burst - 1) * _interval;
        _entries = new Entry[capacity];
        int buckets = (int)Math.Min(1 << 30, BitOperations.RoundUpToPowerOf2((uint)capacity));
        _buckets = new int[buckets];
        _buckets.AsSpan().Fill(None);
        _mask = buckets - 1;
    }

    /// <summary>Allowed per second per source.</summary>
    internal int Rate { get; }

    /// <summary>Allowed at once by a source that was quiet.</summary>
    internal int Burst { get; }

    /// <summary>The most sources remembered.</summary>
    internal int Capacity { get; }

    /// <summary>Sources remembered now (at most <see cref="Capacity"/>).</summary>
    internal int Count => _count;

    /// <summary>Sources forgotten to make room for new ones.</summary>
    internal long Evictions { get; private set; }

    /// <summary>True if <paramref name="source"/> may have one more at <paramref name="now"/> (a Stopwatch timestamp), which is then counted.</summary>
    internal bool TryTake(UInt128 source, long now)
    {
        int hash = Hash(source);
        ref int bucket = ref _buckets[hash & _mask];
        for (int i = bucket; i != None; i = _entries[i].Next)
        {
            ref Entry entry = ref _entries[i];
            if (entry.Key == source)
            {
                Touch(i);
                long full = Math.Max(entry.FullAt, now);
                if (full - now > _tolerance)
                {
                    return false;
                }

                entry.FullAt = full + _interval;
                return true;
            }
        }

        int slot = _count < _entries.Length ? _count++ : Evict();
        ref Entry added = ref _entries[slot];
        added.Key = source;
        added.Hash = hash;
        added.FullAt = now + _interval; // a new source: a full bucket, less this one
        added.Next = bucket;
        bucket = slot;
        added.Newer = None;
        added.Older = _newest;
        if (_newest != None)
        {
            _entries[_newest].Newer = slot;
        }

        _newest = slot;
        if (_oldest == None)
        {
            _oldest = slot;
        }

        return true;
    }

    private static int Hash(UInt128 key) => HashCode.Combine((ulong)(key >> 64), (ulong)key);

    // Moves entry i to the head of the recency list.
    private void Touch(int i)
    {
        if (i == _newest)
        {
            return;
        }

        ref Entry entry = ref _entries[i];
        Unlink(ref entry);
        entry.Newer = None;
        entry.Older = _newest;
        _entries[_newest].Newer = i;
        _newest = i;
    }

    private void Unlink(ref Entry entry)
    {
        if (entry.Newer != None)
        {
            _entries[entry.Newer].Older = entry.Older;
        }
        else
        {
            _newest = entry.Older;
        }

        if (entry.Older != None)
        {
            _entries[entry.Older].Newer = entry.Newer;
        }
        else
        {
            _oldest = entry.Newer;
        }
    }

    // Frees the least recently seen entry (out of its chain and the recency list) and returns its slot.
    private int Evict()
    {
        int victim = _oldest;
        ref Entry entry = ref _entries[victim];
        Unlink(ref entry);
        ref int link = ref _buckets[entry.Hash & _mask];
        while (link != victim)
        {
            link = ref _entries[link].Next;
        }

        link = entry.Next;
        Evictions++;
        return victim;
    }

    private struct Entry
    {
        internal UInt128 Key;
        internal long FullAt; // Stopwatch time at which the bucket is full again
        internal int Hash;
        internal int Next;    // next in the hash chain
        internal int Newer;   // recency list
        internal int Older;
    }
}
