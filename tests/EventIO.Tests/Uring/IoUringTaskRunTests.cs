using System.Runtime.Versioning;
using EventIO.Interop;
using EventIO.Polling;
using EventIO.Tests.Infrastructure;
using Xunit.Abstractions;
using static EventIO.Tests.Uring.UringTestSupport;

namespace EventIO.Tests.Uring;

/// <summary>
/// The three setups the ring falls back through (DEFER_TASKRUN, COOP_TASKRUN, plain) behave the same to the
/// caller: the flags are reported, completions posted by task work or by overflow are all reaped.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class IoUringTaskRunTests(ITestOutputHelper output)
{
    // IoUringTaskRun is internal, so theories take its name.
    public static TheoryData<string> Modes => new(Enum.GetNames<IoUringTaskRun>());

    [UringTheory]
    [MemberData(nameof(Modes))]
    public void Setup_ReportsTheTaskRunFlags(string modeName)
    {
        IoUringTaskRun mode = Enum.Parse<IoUringTaskRun>(modeName);
        using IoUring ring = CreateRing(8, taskRun: mode);
        uint taskRunFlags = ring.SetupFlags & (Libc.IORING_SETUP_SINGLE_ISSUER | Libc.IORING_SETUP_DEFER_TASKRUN | Libc.IORING_SETUP_COOP_TASKRUN | Libc.IORING_SETUP_TASKRUN_FLAG);
        if (Environment.OSVersion.Version >= new Version(6, 1))
        {
            uint expected = mode switch
            {
                IoUringTaskRun.Deferred => Libc.IORING_SETUP_SINGLE_ISSUER | Libc.IORING_SETUP_DEFER_TASKRUN,
                IoUringTaskRun.Cooperative => Libc.IORING_SETUP_COOP_TASKRUN | Libc.IORING_SETUP_TASKRUN_FLAG,
                _ => 0u,
            };
            Assert.Equal(expected, taskRunFlags);
        }
    }

    [UringTheory]
    [MemberData(nameof(Modes))]
    public void CompletionsPostedFromAnotherThread_AreAllReaped(string modeName)
    {
        IoUringTaskRun mode = Enum.Parse<IoUringTaskRun>(modeName);
        const int Wakes = 20;
        using IoUring ring = CreateRing(8, taskRun: mode);
        using FileDescriptorHandle eventFd = EventFd();
        IoUringPrep.PollAdd(ref ring.GetSqe(), eventFd.Descriptor, (uint)Libc.POLLIN, multishot: true, 1);
        ring.SubmitAndWait(0, 0);
        var completions = new List<IoUringCompletion>();

        for (int i = 0; i < Wakes; i++)
        {
            var writer = new Thread(() => Signal(eventFd));
            writer.Start();
            writer.Join();
            completions.AddRange(Collect(ring, 1));
            ReadCounter(eventFd);
        }

        Assert.Equal(Wakes, completions.Count);
        Assert.All(completions, c => Assert.True(c.UserData == 1 && c.HasMore && (c.Result & Libc.POLLIN) != 0, c.ToString()));
    }

    [UringTheory]
    [MemberData(nameof(Modes))]
    public void CqOverflow_IsFlushedByAnEnter_InEveryMode(string modeName)
    {
        IoUringTaskRun mode = Enum.Parse<IoUringTaskRun>(modeName);
        const int Total = 100;
        using IoUring ring = CreateRing(8, 16, mode);
        for (ulong i = 0; i < Total; i++)
        {
            IoUringPrep.Nop(ref ring.GetSqe(), i);
        }

        ring.SubmitAndWait(0, 0);
        Assert.Equal(16, ring.CompletionsReady);
        Assert.True(ring.CqNeedsFlush);

        List<IoUringCompletion> completions = Collect(ring, Total);

        Assert.Equal(Enumerable.Range(0, Total).Select(i => (ulong)i), completions.Select(c => c.UserData));
        Assert.False(ring.CqNeedsFlush);
        Assert.Equal(0u, ring.DroppedCompletions);
    }

    [UringFact]
    public void Cooperative_PendingTaskWork_IsSignalledAndRunByAnEnter()
    {
        using IoUring ring = CreateRing(8, taskRun: IoUringTaskRun.Cooperative);
        if ((ring.SetupFlags & Libc.IORING_SETUP_TASKRUN_FLAG) == 0)
        {
            Assert.Fail($"COOP_TASKRUN|TASKRUN_FLAG refused on this kernel: {ring.Describe()}");
        }

        using FileDescriptorHandle eventFd = EventFd();
        IoUringPrep.PollAdd(ref ring.GetSqe(), eventFd.Descriptor, (uint)Libc.POLLIN, multishot: false, 2);
        ring.SubmitAndWait(0, 0);

        // The wake-up queues task work for this thread, which runs at this thread's next transition from the
        // kernel to user space; until then IORING_SQ_TASKRUN is set and the CQ is empty. So this thread waits
        // for the writer by spinning in user space (a Join or a Sleep is a system call that would run it).
        int written = 0;
        var writer = new Thread(() =>
        {
            Signal(eventFd);
            Volatile.Write(ref written, 1);
        });
        writer.Start();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref written) == 0 && clock.Elapsed < TestTimeouts.Passing)
        {
        }

        bool pending = ring.CqNeedsFlush;
        int visible = ring.CompletionsReady;
        writer.Join();
        output.WriteLine($"after the write: TASKRUN {(pending ? "set" : "clear")}, {visible} completion(s) in the CQ");
        // Either the flag was set with nothing visible yet, or a return from an interrupt or a preemption
        // already ran the work (what a busy two-core machine usually shows).
        Assert.True(pending ^ (visible == 1), $"TASKRUN {pending}, {visible} visible");
        ring.SubmitAndWait(0, 0);
        Assert.False(ring.CqNeedsFlush);
        Assert.Equal(1, ring.CompletionsReady);
        Assert.Equal(2UL, Single(Collect(ring, 1), 2).UserData);
    }
}
