using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using EventIO.Interop;

namespace EventIO.Polling;

/// <summary>
/// The io_uring backend. Readiness for every handler through one-shot POLL_ADD requests, re-armed after they
/// fire (level-triggered, as the contract wants: a handler that did not drain is told again); and for the
/// building blocks, requests of their own (multishot accept and receive, sends) whose completions are
/// dispatched like readiness. One <c>io_uring_enter</c> per turn submits every request and reaps every
/// completion.
/// </summary>
/// <remarks>
/// <para><b>Why one-shot polls:</b> a multishot POLL_ADD posts one completion per wake-up of the file
/// (edge-style): a handler that read only part of what was there would not be told again.</para>
/// <para><b>Thread:</b> the ring is created on the loop thread at the first wait (SINGLE_ISSUER and
/// DEFER_TASKRUN bind it to that thread), so a loop may be built on one thread and run on another; what is
/// asked before that is armed then. From then on the loop runs on that thread only.</para>
/// <para><b>User data:</b> the top byte is the request's kind (<see cref="RingOperation"/>); a poll carries its
/// descriptor and an arm sequence (a completion of a poll re-armed or removed since is stale); a building
/// block's request carries its <see cref="CompletionTable"/> slot and generation.</para>
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed unsafe class IoUringPoller : IPoller
{
    /// <summary>SQ entries (the CQ holds four times as many); a full SQ is submitted early, nothing is lost.</summary>
    internal const uint Entries = 2048;

    private const uint PollFailed = (uint)(Libc.POLLERR | Libc.POLLHUP | Libc.POLLNVAL);

    private readonly CompletionTable _completions = new();
    private readonly List<int> _toArm = [];
    private readonly List<IRingStartable> _waitingForStart = [];
    private readonly List<ProvidedBufferRing> _bufferRings = [];
    private readonly IoUringCompletion[] _reaped;
    private Entry[] _byFd = new Entry[256];
    private IoUring? _ring;
    private ProvidedBufferRing? _streamBuffers;

    /// <summary>Creates the backend; the ring itself is made on the loop thread at the first <see cref="Wait"/>.</summary>
    internal IoUringPoller(int maxEvents) => _reaped = new IoUringCompletion[maxEvents];

    /// <inheritdoc/>
    public string Name => "io_uring";

    /// <summary>The owners of building blocks' requests.</summary>
    internal CompletionTable Completions => _completions;

    /// <summary>The ring once the loop has started waiting on it; null before.</summary>
    internal IoUring? Ring => _ring;

    /// <summary>
    /// True when this kernel and process can run the backend (io_uring_setup succeeds, with the features it
    /// needs); <paramref name="reason"/> says why not, in one line. Tried once per process.
    /// </summary>
    internal static bool IsSupported(out string reason)
    {
        (bool supported, string why) = s_support.Value;
        reason = why;
        return supported;
    }

    /// <inheritdoc/>
    public void Add(int fd, Interest interest, ulong token)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fd);
        if (interest == Interest.None)
        {
            return;
        }

        if (fd >= _byFd.Length)
        {
            Array.Resize(ref _byFd, Math.Max(fd + 1, _byFd.Length * 2));
        }

        Watch(fd, interest, token);
    }

    /// <inheritdoc/>
    public void Modify(int fd, Interest interest, ulong token)
    {
        ref Entry entry = ref _byFd[fd];
        if (entry.Interest != interest || entry.Token != token)
        {
            Watch(fd, interest, token);
        }
    }

    /// <inheritdoc/>
    public void Remove(int fd)
    {
        if ((uint)fd >= (uint)_byFd.Length)
        {
            return;
        }

        ref Entry entry = ref _byFd[fd];
        Disarm(fd, ref entry);
        entry.Interest = Interest.None;
        entry.Sequence++; // a completion of the old poll is stale from now on
    }

    /// <inheritdoc/>
    public int Wait(Span<ReadyEvent> events, int timeoutMs)
    {
        IoUring ring = _ring is null ? Start() : _ring.IsOwnerThread ? _ring : Migrate();
        ArmQueued(ring);
        foreach (ProvidedBufferRing buffers in _bufferRings)
        {
            buffers.PublishRecycled();
        }

        // One enter: submit everything, and wait unless completions are already waiting to be read.
        ring.SubmitAndWait(minComplete: 1, ring.CompletionsReady > 0 ? 0 : timeoutMs);
        return Reap(ring, events);
    }

    /// <summary>Calls <paramref name="handler"/>'s start once the ring exists (at once if it does).</summary>
    internal void WhenStarted(IRingStartable handler)
    {
        if (_ring is not null)
        {
            handler.OnRingStarted(this);
        }
        else
        {
            _waitingForStart.Add(handler);
        }
    }

    /// <summary>
    /// The buffers the kernel receives TCP data into (group 1), made on first use: 512 of 4 KiB. A connection
    /// holds one only from its receive's completion to the end of the callback, so an idle connection holds
    /// none; few buffers keep the pages the kernel touches (the resident memory) small.
    /// </summary>
    internal ProvidedBufferRing StreamBuffers => _streamBuffers ??= Track(new ProvidedBufferRing(_ring!, StreamBufferGroup, 512, 4096));

    /// <summary>The buffer group of <see cref="StreamBuffers"/>.</summary>
    internal const ushort StreamBufferGroup = 1;

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (ProvidedBufferRing buffers in _bufferRings)
        {
            buffers.Dispose();
        }

        _bufferRings.Clear();
        _ring?.Dispose();
    }

    private ProvidedBufferRing Track(ProvidedBufferRing buffers)
    {
        _bufferRings.Add(buffers);
        return buffers;
    }

    private static readonly Lazy<(bool, string)> s_support = new(() =>
    {
        if (!IoUring.TryCreate(8, out IoUring? probe, out string reason))
        {
            return (false, reason);
        }

        bool multishot = !probe.Probed || (probe.SupportsOpcode(Libc.IORING_OP_POLL_ADD) && probe.SupportsOpcode(Libc.IORING_OP_RECV));
        probe.Dispose();
        return multishot ? (true, "") : (false, "io_uring: the kernel lacks POLL_ADD or RECV");
    });

    private IoUring Start()
    {
        if (!IoUring.TryCreate(Entries, Entries * 4, out IoUring? ring, out string reason))
        {
            throw new InvalidOperationException($"The io_uring backend could not start on the loop thread: {reason}");
        }

        _ring = ring;
        foreach (IRingStartable handler in _waitingForStart)
        {
            handler.OnRingStarted(this);
        }

        _waitingForStart.Clear();
        return ring;
    }

    // The loop is run by another thread than before (RunOnce from a test, a host that moved it): the ring is
    // bound to its first thread, so make a new one here and arm every poll again. Possible only while no
    // building block uses the ring: their requests and buffers live in the old one.
    private IoUring Migrate()
    {
        if (_completions.Count > 0 || _bufferRings.Count > 0)
        {
            throw new InvalidOperationException("An io_uring loop whose building blocks have requests in flight runs on one thread: the first that ran it.");
        }

        _ring!.Dispose(); // from here the kernel frees it once its first thread exits (its registered descriptor lives there)
        _ring = null;
        for (int fd = 0; fd < _byFd.Length; fd++)
        {
            ref Entry entry = ref _byFd[fd];
            entry.Armed = false;
            if (entry.Interest != Interest.None && !entry.Queued)
            {
                entry.Queued = true;
                _toArm.Add(fd);
            }
        }

        return Start();
    }

    private void Watch(int fd, Interest interest, ulong token)
    {
        ref Entry entry = ref _byFd[fd];
        Disarm(fd, ref entry);
        entry.Interest = interest;
        entry.Token = token;
        entry.Sequence++;
        if (!entry.Queued)
        {
            entry.Queued = true;
            _toArm.Add(fd);
        }
    }

    // A poll still armed is removed; its -ECANCELED completion is stale once the sequence moves on.
    private void Disarm(int fd, ref Entry entry)
    {
        if (!entry.Armed)
        {
            return;
        }

        entry.Armed = false;
        if (_ring is { } ring)
        {
            IoUringPrep.PollRemove(ref ring.GetSqe(), PollUserData(fd, entry.Sequence), (ulong)RingOperation.Cancel << 56);
        }
    }

    private void ArmQueued(IoUring ring)
    {
        foreach (int fd in _toArm)
        {
            ref Entry entry = ref _byFd[fd];
            entry.Queued = false;
            if (entry.Interest == Interest.None || entry.Armed)
            {
                continue;
            }

            uint events = ((entry.Interest & Interest.Readable) != 0 ? (uint)Libc.POLLIN : 0) | ((entry.Interest & Interest.Writable) != 0 ? (uint)Libc.POLLOUT : 0);
            IoUringPrep.PollAdd(ref ring.GetSqe(), fd, events, multishot: false, PollUserData(fd, entry.Sequence));
            entry.Armed = true;
        }

        _toArm.Clear();
    }

    // Turns completions into events, as many as fit; the rest stay in the CQ for the next turn.
    private int Reap(IoUring ring, Span<ReadyEvent> events)
    {
        int filled = 0;
        while (filled < events.Length)
        {
            int count = ring.PeekBatch(_reaped.AsSpan(0, events.Length - filled));
            if (count == 0)
            {
                break;
            }

            for (int i = 0; i < count; i++)
            {
                IoUringCompletion c = _reaped[i];
                byte kind = RingOperation.KindOf(c.UserData);
                if (kind == RingOperation.Poll)
                {
                    filled += ToReadiness(c, events[filled..]);
                }
                else if (kind >= RingOperation.FirstCompletion)
                {
                    events[filled++] = new ReadyEvent(c.UserData, Interest.None, Failed: false) { Operation = kind, Result = c.Result, Flags = c.Flags };
                }
            }

            ring.Advance(count);
        }

        return filled;
    }

    // A fired poll: the registration it was armed for, unless re-armed or removed since. One-shot: it is
    // queued to be armed again at the next wait (level-triggered).
    private int ToReadiness(IoUringCompletion c, Span<ReadyEvent> events)
    {
        int fd = (int)(uint)c.UserData;
        uint sequence = (uint)(c.UserData >> 32) & 0xFFFFFF;
        if ((uint)fd >= (uint)_byFd.Length)
        {
            return 0;
        }

        ref Entry entry = ref _byFd[fd];
        if ((entry.Sequence & 0xFFFFFF) != sequence || !entry.Armed)
        {
            return 0; // removed or re-armed since
        }

        entry.Armed = false;
        if (!entry.Queued)
        {
            entry.Queued = true;
            _toArm.Add(fd);
        }

        uint mask = c.Result < 0 ? PollFailed : (uint)c.Result;
        Interest ready = ((mask & (uint)Libc.POLLIN) != 0 ? Interest.Readable : Interest.None) | ((mask & (uint)Libc.POLLOUT) != 0 ? Interest.Writable : Interest.None);
        events[0] = new ReadyEvent(entry.Token, ready, (mask & PollFailed) != 0);
        return 1;
    }

    private static ulong PollUserData(int fd, uint sequence)
        => ((ulong)RingOperation.Poll << 56) | ((ulong)(sequence & 0xFFFFFF) << 32) | (uint)fd;

    [StructLayout(LayoutKind.Auto)]
    private struct Entry
    {
        public Interest Interest;
        public ulong Token;
        public uint Sequence;
        public bool Armed;  // a POLL_ADD is in the kernel (or queued in the SQ)
        public bool Queued; // in _toArm
    }
}
