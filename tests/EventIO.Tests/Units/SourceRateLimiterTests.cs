using System.Diagnostics;
using System.Net;
using EventIO.Net;

namespace EventIO.Tests.Units;

/// <summary>The per-source token buckets behind <c>--udp-rate-limit</c>: rate, burst, fairness, and a table that stays bounded.</summary>
public sealed class SourceRateLimiterTests
{
    private static readonly long s_second = Stopwatch.Frequency;
    private static readonly UInt128 s_a = SourceAddress.KeyOf(IPAddress.Parse("192.0.2.1"));
    private static readonly UInt128 s_b = SourceAddress.KeyOf(IPAddress.Parse("192.0.2.2"));

    [Fact]
    public void AQuietSource_GetsItsBurst_ThenTheRate()
    {
        var limiter = new SourceRateLimiter(rate: 10, burst: 5, capacity: 16);
        long now = 1_000 * s_second;
        Assert.Equal(5, Enumerable.Range(0, 100).Count(_ => limiter.TryTake(s_a, now)));

        // One interval later one more; a whole second later ten more (the bucket never holds more than the burst).
        Assert.True(limiter.TryTake(s_a, now + (s_second / 10)));
        Assert.False(limiter.TryTake(s_a, now + (s_second / 10)));
        Assert.Equal(5, Enumerable.Range(0, 100).Count(_ => limiter.TryTake(s_a, now + (10 * s_second))));
    }

    [Fact]
    public void OneSourceFlooding_DoesNotTouchAnother()
    {
        var limiter = new SourceRateLimiter(rate: 100, burst: 100, capacity: 16);
        long now = s_second;
        int flooderAllowed = 0, otherAllowed = 0;
        for (int ms = 0; ms < 2_000; ms++) // two seconds: the flooder sends 50 a millisecond, the other one
        {
            long t = now + (ms * s_second / 1000);
            for (int i = 0; i < 50; i++)
            {
                flooderAllowed += limiter.TryTake(s_a, t) ? 1 : 0;
            }

            if (ms % 20 == 0)
            {
                otherAllowed += limiter.TryTake(s_b, t) ? 1 : 0;
            }
        }

        Assert.Equal(100, otherAllowed); // every one of its 50 a second, under its rate of 100
        Assert.InRange(flooderAllowed, 100 + 199, 100 + 201); // the burst, then 100 a second for the two seconds
    }

    [Fact]
    public void AMillionRandomSources_StayInTheTable_AndAllocateNothing()
    {
        const int Capacity = 4096;
        var limiter = new SourceRateLimiter(rate: 5, burst: 5, capacity: Capacity);
        var random = new Random(14);
        long now = s_second;
        int victimAllowed = 0;
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1_000_000; i++)
        {
            var source = new UInt128((ulong)random.NextInt64(), (ulong)random.NextInt64());
            Assert.True(limiter.TryTake(source, now)); // a new source: its first datagram is allowed
            if (i % 1000 == 0)
            {
                victimAllowed += limiter.TryTake(s_a, now) ? 1 : 0; // seen far more often than it is forgotten
            }

            Assert.True(limiter.Count <= Capacity);
            now += s_second / 1_000_000; // a million a second
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        Assert.Equal(Capacity, limiter.Count);
        Assert.Equal(1_000_000 + 1 - Capacity, limiter.Evictions); // every random source but the last 4096 forgotten; the victim never
        Assert.True(allocated < 1024, $"{allocated} bytes allocated");

        // The spoofed victim, one datagram in a thousand of the flood, is seen again long before 4096 others
        // could push it out: it stays in the table and stays limited (its burst, then 5 a second, for one second).
        Assert.InRange(victimAllowed, 5, 11);
    }

    [Fact]
    public void TheLeastRecentlySeenSource_IsTheOneForgotten()
    {
        var limiter = new SourceRateLimiter(rate: 1, burst: 1, capacity: 2);
        UInt128 c = SourceAddress.KeyOf(IPAddress.Parse("192.0.2.3"));
        long now = s_second;
        Assert.True(limiter.TryTake(s_a, now));
        Assert.True(limiter.TryTake(s_b, now));
        Assert.False(limiter.TryTake(s_a, now)); // a is the most recent now, b the oldest
        Assert.True(limiter.TryTake(c, now));    // evicts b
        Assert.False(limiter.TryTake(s_a, now)); // still remembered, still over its limit
        Assert.True(limiter.TryTake(s_b, now));  // forgotten: a fresh bucket (evicts c)
        Assert.Equal(2, limiter.Count);
        Assert.Equal(2, limiter.Evictions);
    }

    [Fact]
    public void IPv4_AndItsMappedIPv6Form_AreOneSource()
    {
        Assert.Equal(SourceAddress.KeyOf(IPAddress.Parse("127.0.0.2")), SourceAddress.KeyOf(IPAddress.Parse("::ffff:127.0.0.2")));
        Assert.NotEqual(SourceAddress.KeyOf(IPAddress.Parse("127.0.0.2")), SourceAddress.KeyOf(IPAddress.Parse("127.0.0.3")));
        var v4 = new IPEndPoint(IPAddress.Parse("127.0.0.2"), 1234).Serialize();
        var v6 = new IPEndPoint(IPAddress.Parse("::ffff:127.0.0.2"), 5678).Serialize();
        Assert.True(SourceAddress.TryGetKey(v4, out UInt128 k4));
        Assert.True(SourceAddress.TryGetKey(v6, out UInt128 k6));
        Assert.Equal(k4, k6);
        Assert.Equal(SourceAddress.KeyOf(IPAddress.Parse("127.0.0.2")), k4);
    }
}
