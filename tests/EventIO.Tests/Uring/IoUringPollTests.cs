using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using EventIO.Interop;
using EventIO.Polling;
using EventIO.Tests.Infrastructure;
using static EventIO.Tests.Uring.UringTestSupport;

namespace EventIO.Tests.Uring;

/// <summary>
/// Readiness through the ring: multishot POLL_ADD on an eventfd, how it ends (POLL_REMOVE, ASYNC_CANCEL by
/// user_data and by descriptor), and an eventfd READ, the shapes the backend's generic handlers and its
/// cross-thread wake-up will take.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class IoUringPollTests
{
    private const ulong Poll = 10;
    private const ulong Remove = 11;

    [UringFact]
    public void MultishotPoll_FiresOncePerWakeUp_WithMore()
    {
        using IoUring ring = CreateRing(8);
        using FileDescriptorHandle eventFd = EventFd();
        IoUringPrep.PollAdd(ref ring.GetSqe(), eventFd.Descriptor, (uint)Libc.POLLIN, multishot: true, Poll);
        Assert.Empty(CollectFor(ring, TimeSpan.Zero)); // armed, nothing ready

        for (int i = 1; i <= 3; i++)
        {
            Signal(eventFd);
            IoUringCompletion fired = Assert.Single(Collect(ring, 1));
            Assert.Equal(Poll, fired.UserData);
            Assert.Equal(Libc.POLLIN, fired.Result & Libc.POLLIN);
            Assert.True(fired.HasMore, $"wake-up {i}: multishot poll ended: {fired}");
        }

        // Still readable (the counter was never read), but no new wake-up: no new completion.
        Assert.Equal(3UL, ReadCounter(eventFd));
        Assert.Empty(CollectFor(ring, TestTimeouts.NothingHappens));
    }

    [UringFact]
    public void PollRemove_EndsTheMultishotPollWithCanceled()
    {
        using IoUring ring = CreateRing(8);
        using FileDescriptorHandle eventFd = EventFd();
        IoUringPrep.PollAdd(ref ring.GetSqe(), eventFd.Descriptor, (uint)Libc.POLLIN, multishot: true, Poll);
        Signal(eventFd);
        Assert.True(Single(Collect(ring, 1), Poll).HasMore);

        IoUringPrep.PollRemove(ref ring.GetSqe(), Poll, Remove);
        List<IoUringCompletion> completions = Collect(ring, 2);

        Assert.Equal(2, completions.Count);
        Assert.Equal(0, Single(completions, Remove).Result);
        IoUringCompletion last = Single(completions, Poll);
        Assert.Equal(-Libc.ECANCELED, last.Result);
        Assert.False(last.HasMore);

        // Nothing armed any more: a wake-up posts nothing, a second remove finds nothing.
        Signal(eventFd);
        IoUringPrep.PollRemove(ref ring.GetSqe(), Poll, Remove);
        Assert.Equal(-Libc.ENOENT, Single(Collect(ring, 1), Remove).Result);
        Assert.Empty(CollectFor(ring, TestTimeouts.NothingHappens));
    }

    [UringFact]
    public void AsyncCancelByUserData_EndsTheMultishotPoll_AndUnknownTargetsAreENOENT()
    {
        using IoUring ring = CreateRing(8);
        using FileDescriptorHandle eventFd = EventFd();
        IoUringPrep.PollAdd(ref ring.GetSqe(), eventFd.Descriptor, (uint)Libc.POLLIN, multishot: true, Poll);
        ring.SubmitAndWait(0, 0);

        IoUringPrep.Cancel(ref ring.GetSqe(), Poll, all: false, userData: 20);
        IoUringPrep.Cancel(ref ring.GetSqe(), 0xBAD, all: false, userData: 21);
        List<IoUringCompletion> completions = Collect(ring, 3);

        Assert.Equal(3, completions.Count);
        Assert.Equal(0, Single(completions, 20).Result);
        Assert.Equal(-Libc.ENOENT, Single(completions, 21).Result);
        IoUringCompletion last = Single(completions, Poll);
        Assert.Equal(-Libc.ECANCELED, last.Result);
        Assert.False(last.HasMore);
    }

    [UringFact]
    public void AsyncCancelByDescriptor_All_EndsEveryRequestOnIt_AndCountsThem()
    {
        using IoUring ring = CreateRing(8);
        using FileDescriptorHandle eventFd = EventFd();
        using FileDescriptorHandle other = EventFd();
        IoUringPrep.PollAdd(ref ring.GetSqe(), eventFd.Descriptor, (uint)Libc.POLLIN, multishot: true, 1);
        IoUringPrep.PollAdd(ref ring.GetSqe(), eventFd.Descriptor, (uint)Libc.POLLIN, multishot: false, 2);
        IoUringPrep.PollAdd(ref ring.GetSqe(), other.Descriptor, (uint)Libc.POLLIN, multishot: true, 3);
        ring.SubmitAndWait(0, 0);

        IoUringPrep.CancelFd(ref ring.GetSqe(), eventFd.Descriptor, all: true, userData: 30);
        List<IoUringCompletion> completions = Collect(ring, 3);

        Assert.Equal(3, completions.Count);
        Assert.Equal(2, Single(completions, 30).Result); // IORING_ASYNC_CANCEL_ALL: the number cancelled
        Assert.Equal(-Libc.ECANCELED, Single(completions, 1).Result);
        Assert.Equal(-Libc.ECANCELED, Single(completions, 2).Result);

        // The poll on the other descriptor is untouched.
        Signal(other);
        IoUringCompletion survivor = Single(Collect(ring, 1), 3);
        Assert.True(survivor.HasMore);
        IoUringPrep.CancelFd(ref ring.GetSqe(), eventFd.Descriptor, all: true, userData: 31);
        IoUringPrep.CancelFd(ref ring.GetSqe(), eventFd.Descriptor, all: false, userData: 32);
        List<IoUringCompletion> none = Collect(ring, 2);
        Assert.Equal(0, Single(none, 31).Result);            // ALL: zero cancelled
        Assert.Equal(-Libc.ENOENT, Single(none, 32).Result); // one: not found
    }

    [UringFact]
    public void ReadOfAnEventFd_CompletesWhenAnotherThreadWritesIt()
    {
        using IoUring ring = CreateRing(8);
        using FileDescriptorHandle eventFd = EventFd(nonBlocking: false);
        ulong* counter = (ulong*)NativeMemory.AllocZeroed(sizeof(ulong));
        try
        {
            IoUringPrep.Read(ref ring.GetSqe(), eventFd.Descriptor, counter, sizeof(ulong), 40);
            Assert.Empty(CollectFor(ring, TestTimeouts.NothingHappens)); // waits: nothing written yet

            var writer = new Thread(() => Signal(eventFd, 5));
            writer.Start();
            IoUringCompletion read = Single(Collect(ring, 1), 40);
            writer.Join();

            Assert.Equal(sizeof(ulong), read.Result);
            Assert.Equal(5UL, *counter);
            Libc.pollfd check = new() { fd = eventFd.Descriptor, events = Libc.POLLIN };
            Assert.Equal(0, Libc.poll(&check, 1, 0)); // the read reset the counter
        }
        finally
        {
            NativeMemory.Free(counter);
        }
    }

    [UringFact]
    public void ReadOfANonBlockingEventFd_StillWaitsForAWrite()
    {
        using IoUring ring = CreateRing(8);
        using FileDescriptorHandle eventFd = EventFd(nonBlocking: true);
        ulong* counter = (ulong*)NativeMemory.AllocZeroed(sizeof(ulong));
        try
        {
            IoUringPrep.Read(ref ring.GetSqe(), eventFd.Descriptor, counter, sizeof(ulong), 41);
            List<IoUringCompletion> early = CollectFor(ring, TestTimeouts.NothingHappens);
            Assert.True(early.Count == 0, $"completed before any write: {string.Join(", ", early)}");

            Signal(eventFd, 9);
            IoUringCompletion read = Single(Collect(ring, 1), 41);

            Assert.Equal(sizeof(ulong), read.Result);
            Assert.Equal(9UL, *counter);
        }
        finally
        {
            NativeMemory.Free(counter);
        }
    }
}
