using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using EventIO.Interop;
using EventIO.Polling;
using EventIO.Tests.Infrastructure;
using Xunit.Abstractions;
using static EventIO.Tests.Uring.UringTestSupport;

namespace EventIO.Tests.Uring;

/// <summary>Setup, submission, completion, waiting and teardown of <see cref="IoUring"/>.</summary>
[SupportedOSPlatform("linux")]
public sealed class IoUringCoreTests(ITestOutputHelper output)
{
    [UringFact]
    public void Setup_ReportsFlagsFeaturesAndSizes()
    {
        using IoUring ring = CreateRing(100);
        output.WriteLine(ring.Describe());
        output.WriteLine($"features: {IoUring.FormatFeatures(ring.Features)}");

        Assert.Equal(128u, ring.SqEntries); // rounded up to a power of two
        Assert.Equal(512u, ring.CqEntries); // 4 x 100, rounded up
        Assert.Equal(IoUring.RequiredFeatures, ring.Features & IoUring.RequiredFeatures);
        Assert.NotEqual(0u, ring.SetupFlags & Libc.IORING_SETUP_CQSIZE);
        Assert.Contains("CQSIZE", ring.Describe(), StringComparison.Ordinal);
        if (Environment.OSVersion.Version >= new Version(6, 1))
        {
            // Every kernel from 6.1 accepts the first choice.
            Assert.Equal(
                Libc.IORING_SETUP_SINGLE_ISSUER | Libc.IORING_SETUP_DEFER_TASKRUN | Libc.IORING_SETUP_SUBMIT_ALL,
                ring.SetupFlags & (Libc.IORING_SETUP_SINGLE_ISSUER | Libc.IORING_SETUP_DEFER_TASKRUN | Libc.IORING_SETUP_SUBMIT_ALL | Libc.IORING_SETUP_COOP_TASKRUN));
            Assert.Equal("CQSIZE|CLAMP|SUBMIT_ALL|SINGLE_ISSUER|DEFER_TASKRUN", IoUring.FormatSetupFlags(ring.SetupFlags));
        }

        if (Environment.OSVersion.Version >= new Version(6, 0))
        {
            Assert.True(ring.RingFdRegistered);
            Assert.True(ring.Probed);
            foreach (byte op in new[] { Libc.IORING_OP_NOP, Libc.IORING_OP_POLL_ADD, Libc.IORING_OP_POLL_REMOVE, Libc.IORING_OP_SENDMSG, Libc.IORING_OP_RECVMSG, Libc.IORING_OP_ACCEPT, Libc.IORING_OP_ASYNC_CANCEL, Libc.IORING_OP_READ, Libc.IORING_OP_SEND, Libc.IORING_OP_RECV })
            {
                Assert.True(ring.SupportsOpcode(op), $"opcode {op} not reported by the probe");
            }

            Assert.False(ring.SupportsOpcode(255));
        }
    }

    [UringFact]
    public void TryCreate_RejectsBadSizes()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => IoUring.TryCreate(0, out _, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => IoUring.TryCreate(65536, out _, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => IoUring.TryCreate(64, 32, out _, out _));
    }

    [UringFact]
    public void Nop_RoundTripsUserData()
    {
        using IoUring ring = CreateRing(8);
        ulong[] tags = [0, 1, 0xDEAD_BEEF, ulong.MaxValue, 1UL << 63];
        foreach (ulong tag in tags)
        {
            IoUringPrep.Nop(ref ring.GetSqe(), tag);
        }

        Assert.Equal(tags.Length, ring.PendingSubmissions);
        Assert.Equal(tags.Length, ring.SubmitAndWait(tags.Length, (int)TestTimeouts.Passing.TotalMilliseconds));
        Assert.Equal(0, ring.PendingSubmissions);
        Assert.Equal(tags.Length, ring.CompletionsReady);

        List<IoUringCompletion> completions = Collect(ring, tags.Length);
        Assert.Equal(tags, completions.Select(c => c.UserData)); // NOPs complete inline, in order
        Assert.All(completions, c => Assert.Equal(0, c.Result));
        Assert.All(completions, c => Assert.False(c.HasMore || c.HasBuffer || c.IsError));
        Assert.Equal(0, ring.CompletionsReady);
        Assert.False(ring.TryPeek(out _));
    }

    [UringFact]
    public void CqeSkipSuccess_PostsNothingForASuccess_ButStillReportsAFailure()
    {
        using IoUring ring = CreateRing(8);
        ref Libc.io_uring_sqe quiet = ref ring.GetSqe();
        IoUringPrep.Nop(ref quiet, 1);
        quiet.flags |= Libc.IOSQE_CQE_SKIP_SUCCESS;
        ref Libc.io_uring_sqe failing = ref ring.GetSqe();
        IoUringPrep.Cancel(ref failing, 0xBAD, all: false, userData: 2);
        failing.flags |= Libc.IOSQE_CQE_SKIP_SUCCESS;
        IoUringPrep.Nop(ref ring.GetSqe(), 3);

        Assert.Equal(3, ring.SubmitAndWait(2, (int)TestTimeouts.Passing.TotalMilliseconds));

        List<IoUringCompletion> completions = CollectFor(ring, TestTimeouts.NothingHappens);
        Assert.Equal([2UL, 3UL], completions.Select(c => c.UserData));
        Assert.Equal(-Libc.ENOENT, completions[0].Result);
    }

    [UringFact]
    public void TryPeek_DoesNotConsume_AndPeekBatchAdvancesOnce()
    {
        using IoUring ring = CreateRing(8);
        for (ulong i = 0; i < 5; i++)
        {
            IoUringPrep.Nop(ref ring.GetSqe(), 100 + i);
        }

        ring.SubmitAndWait(5, (int)TestTimeouts.Passing.TotalMilliseconds);
        Assert.True(ring.TryPeek(out IoUringCompletion first));
        Assert.True(ring.TryPeek(out IoUringCompletion again));
        Assert.Equal(first, again);
        Assert.Equal(100UL, first.UserData);

        Span<IoUringCompletion> batch = stackalloc IoUringCompletion[3];
        Assert.Equal(3, ring.PeekBatch(batch));
        Assert.Equal([100UL, 101UL, 102UL], batch.ToArray().Select(c => c.UserData));
        ring.Advance(3);
        Span<IoUringCompletion> rest = stackalloc IoUringCompletion[8];
        Assert.Equal(2, ring.PeekBatch(rest));
        Assert.Equal([103UL, 104UL], rest[..2].ToArray().Select(c => c.UserData));
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.Advance(3));
        ring.Advance(2);
        Assert.Equal(0, ring.CompletionsReady);
    }

    [UringFact]
    public void SubmitAndWait_TimesOutWithoutCompletions()
    {
        using IoUring ring = CreateRing(8);
        var clock = Stopwatch.StartNew();

        Assert.Equal(0, ring.SubmitAndWait(1, 50));

        TimeSpan elapsed = clock.Elapsed;
        Assert.True(elapsed >= TimeSpan.FromMilliseconds(45), $"returned after {elapsed.TotalMilliseconds} ms, before the 50 ms timeout");
        Assert.True(elapsed < TestTimeouts.Scale(TimeSpan.FromSeconds(2)), $"a 50 ms timeout took {elapsed.TotalMilliseconds} ms");
        Assert.Equal(0, ring.CompletionsReady);
    }

    [UringFact]
    public void SubmitAndWait_WithZeroTimeoutOrZeroCount_DoesNotWait()
    {
        using IoUring ring = CreateRing(8);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(0, ring.SubmitAndWait(1, 0));
            Assert.Equal(0, ring.SubmitAndWait(0, -1));
        }

        Assert.True(clock.Elapsed < TestTimeouts.Scale(TimeSpan.FromSeconds(2)), $"200 non-waiting enters took {clock.Elapsed.TotalMilliseconds} ms");
    }

    [UringFact]
    public void SubmitAndWait_WithoutTimeout_ReturnsWhenTheCompletionArrives()
    {
        using IoUring ring = CreateRing(8);
        IoUringPrep.Nop(ref ring.GetSqe(), 7);

        Assert.Equal(1, ring.SubmitAndWait(1, -1));

        Assert.Equal(7UL, Single(Collect(ring, 1), 7).UserData);
    }

    [UringFact]
    public void SubmitAndWait_WaitsForACompletionPostedLater()
    {
        using IoUring ring = CreateRing(8);
        using FileDescriptorHandle eventFd = EventFd();
        IoUringPrep.PollAdd(ref ring.GetSqe(), eventFd.Descriptor, (uint)Libc.POLLIN, multishot: false, userData: 3);
        ring.SubmitAndWait(0, 0);
        Assert.Equal(0, ring.CompletionsReady);
        using var writer = new Timer(_ => Signal(eventFd), null, 100, Timeout.Infinite);
        var clock = Stopwatch.StartNew();

        ring.SubmitAndWait(1, (int)TestTimeouts.Passing.TotalMilliseconds);

        Assert.True(clock.Elapsed < TestTimeouts.Passing / 2, $"the wait took {clock.Elapsed.TotalMilliseconds} ms instead of ending on the completion");
        IoUringCompletion completion = Single(Collect(ring, 1), 3);
        Assert.Equal(Libc.POLLIN, completion.Result & Libc.POLLIN);
        Assert.False(completion.HasMore);
    }

    [UringFact]
    public void GetSqe_ReturnsAZeroedEntry_EvenWhenItsSlotWasUsedBefore()
    {
        using IoUring ring = CreateRing(4);
        for (int round = 0; round < 3; round++)
        {
            for (ulong i = 0; i < 4; i++)
            {
                ref Libc.io_uring_sqe sqe = ref ring.GetSqe();
                Assert.True(MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref sqe, 1)).IndexOfAnyExcept((byte)0) < 0, $"round {round}, entry {i} not zeroed");
                IoUringPrep.PollRemove(ref sqe, 0xFFFF_FFFF_0000 + i, i); // fills fd, addr and user_data of the slot
            }

            List<IoUringCompletion> completions = Collect(ring, 4);
            Assert.All(completions, c => Assert.Equal(-Libc.ENOENT, c.Result));
        }
    }

    [Fact]
    public void SetupRefusals_AreOneLineReasons()
    {
        Assert.Equal(
            "io_uring_setup: operation not permitted (seccomp filter, e.g. a container's default profile, or sysctl kernel.io_uring_disabled)",
            IoUring.DescribeSetupFailure(Libc.EPERM));
        Assert.StartsWith("io_uring_setup: function not implemented", IoUring.DescribeSetupFailure(Libc.ENOSYS), StringComparison.Ordinal);
        Assert.StartsWith("io_uring_setup: ", IoUring.DescribeSetupFailure(24), StringComparison.Ordinal); // EMFILE
        Assert.Contains("(errno 24)", IoUring.DescribeSetupFailure(24), StringComparison.Ordinal);
        Assert.DoesNotContain('\n', IoUring.DescribeSetupFailure(24));
    }

    [UringFact]
    public void SqFull_GetSqeSubmitsTheQueuedEntriesAndContinues()
    {
        using IoUring ring = CreateRing(4, 64);
        Assert.Equal(4u, ring.SqEntries);
        for (ulong i = 0; i < 4; i++)
        {
            IoUringPrep.Nop(ref ring.GetSqe(), i);
        }

        Assert.Equal(4, ring.PendingSubmissions);
        Assert.Equal(0, ring.CompletionsReady);

        IoUringPrep.Nop(ref ring.GetSqe(), 4); // the SQ is full: the first four go to the kernel first

        Assert.Equal(1, ring.PendingSubmissions);
        Assert.Equal(4, ring.CompletionsReady); // NOPs complete inline during that submit
        for (ulong i = 5; i < 19; i++)
        {
            IoUringPrep.Nop(ref ring.GetSqe(), i);
        }

        List<IoUringCompletion> completions = Collect(ring, 19);
        Assert.Equal(Enumerable.Range(0, 19).Select(i => (ulong)i), completions.Select(c => c.UserData));
        Assert.Equal(0, ring.PendingSubmissions);
    }

    [UringFact]
    public void CqOverflow_NothingIsLost_AndEverythingIsReapedInOrder()
    {
        const int Total = 200;
        using IoUring ring = CreateRing(8, 16);
        Assert.Equal(16u, ring.CqEntries);
        for (ulong i = 0; i < Total; i++)
        {
            IoUringPrep.Nop(ref ring.GetSqe(), i); // submits every 8 without reaping anything
        }

        ring.SubmitAndWait(0, 0);

        Assert.Equal(16, ring.CompletionsReady); // the CQ is full...
        Assert.True(ring.CqNeedsFlush);          // ...and the kernel holds the rest (IORING_SQ_CQ_OVERFLOW)
        var completions = new List<IoUringCompletion>();
        int enters = 0;
        while (completions.Count < Total && enters < Total)
        {
            Drain(ring, completions);
            if (ring.CqNeedsFlush)
            {
                ring.SubmitAndWait(0, 0); // GETEVENTS moves overflowed completions into the freed slots
                enters++;
            }
            else
            {
                break;
            }
        }

        Drain(ring, completions);
        Assert.Equal(Enumerable.Range(0, Total).Select(i => (ulong)i), completions.Select(c => c.UserData));
        Assert.False(ring.CqNeedsFlush);
        Assert.Equal(0u, ring.DroppedCompletions);
        output.WriteLine($"{Total} NOPs through a 16-entry CQ: reaped after {enters} flushing enters");
    }

    [UringFact]
    public void HotPath_SubmitAndReap_AllocatesNothing()
    {
        using IoUring ring = CreateRing(64);
        Span<IoUringCompletion> batch = stackalloc IoUringCompletion[32];
        RoundTrips(ring, batch, 200);

        long before = GC.GetAllocatedBytesForCurrentThread();
        RoundTrips(ring, batch, 10_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated == 0, $"{allocated} bytes allocated over 10,000 submit/reap round trips");

        static void RoundTrips(IoUring ring, Span<IoUringCompletion> batch, int count)
        {
            for (int i = 0; i < count; i++)
            {
                IoUringPrep.Nop(ref ring.GetSqe(), (ulong)i);
                IoUringPrep.Nop(ref ring.GetSqe(), (ulong)i + 1);
                ring.SubmitAndWait(2, 1000);
                int n = ring.PeekBatch(batch);
                if (n != 2 || batch[0].UserData != (ulong)i)
                {
                    throw new InvalidOperationException($"round trip {i}: {n} completions");
                }

                ring.Advance(n);
                while (ring.TryPeek(out IoUringCompletion extra))
                {
                    throw new InvalidOperationException($"unexpected {extra}");
                }
            }
        }
    }

    [UringFact]
    public void Dispose_Twice_IsSafe_AndUseAfterDisposeThrows()
    {
        IoUring ring = CreateRing(8);
        IoUringPrep.Nop(ref ring.GetSqe(), 1);
        ring.SubmitAndWait(1, 1000);

        ring.Dispose();
        ring.Dispose();

        Assert.True(ring.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => ring.GetSqe());
        Assert.Throws<ObjectDisposedException>(() => ring.SubmitAndWait(0, 0));
        Assert.Throws<ObjectDisposedException>(() => ring.TryPeek(out _));
        Assert.Throws<ObjectDisposedException>(() => ring.Advance(0));
    }

    [UringFact]
    public void ManyRings_CreateAndDispose_LeakNothingVisible()
    {
        int before = Directory.GetFiles("/proc/self/fd").Length;
        for (int i = 0; i < 200; i++)
        {
            using IoUring ring = CreateRing(16);
            IoUringPrep.Nop(ref ring.GetSqe(), (ulong)i);
            Assert.Equal(1, ring.SubmitAndWait(1, 1000));
        }

        int after = Directory.GetFiles("/proc/self/fd").Length;
        Assert.True(after - before < 20, $"{after - before} more descriptors after 200 rings");
    }

    [UringFact]
    public void UseFromAnotherThread_IsRefused()
    {
        using IoUring ring = CreateRing(8);
        IoUringPrep.Nop(ref ring.GetSqe(), 1);

        Exception? error = null;
        var thread = new Thread(() => error = Record.Exception(() => ring.SubmitAndWait(0, 0)));
        thread.Start();
        Assert.True(thread.Join(TestTimeouts.Passing));

        Assert.IsType<InvalidOperationException>(error);
        Assert.Equal(1, ring.SubmitAndWait(1, 1000)); // the owner still can
        Assert.Equal(1UL, Single(Collect(ring, 1), 1).UserData);
    }
}
