using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using EventIO.Diagnostics;
using EventIO.Polling;
using Microsoft.Extensions.Logging;

namespace EventIO;

/// <summary>
/// The loop's table of registered handlers: slots with generation tokens, one index by descriptor, the
/// dirty list, and the interest sync that tells the poller (which it owns) only what changed.
/// </summary>
/// <remarks>
/// <para><b>Tokens:</b> the poller reports <c>generation &lt;&lt; 32 | slot</c>; removal bumps the
/// generation, so an event collected for a removed handler never reaches the slot's next occupant, even
/// when it reuses the same descriptor number.</para>
/// <para><b>Threading:</b> loop thread only.</para>
/// </remarks>
internal sealed class Registry : IDisposable
{
    private readonly IPoller _poller;
    private readonly ILogger _logger;
    private readonly Action<IEventHandler, Exception> _onSyncFailure;
    private readonly List<Registration> _dirty = [];
    private readonly Stack<int> _freeSlots = new();
    private Registration[] _slots = [];
    private Registration?[] _byDescriptor = new Registration?[256];

    /// <summary>Takes ownership of <paramref name="poller"/>; <paramref name="onSyncFailure"/> gets a handler whose wants could not be applied.</summary>
    internal Registry(IPoller poller, ILogger logger, Action<IEventHandler, Exception> onSyncFailure)
    {
        _poller = poller;
        _logger = logger;
        _onSyncFailure = onSyncFailure;
    }

    /// <summary>The backend's name.</summary>
    internal string BackendName => _poller.Name;

    /// <summary>The backend itself (the building blocks' io_uring requests go to it directly).</summary>
    internal IPoller Poller => _poller;

    /// <summary>The trace of the turn now running, or null (not traced).</summary>
    internal LoopTrace? Trace { get; set; }

    /// <summary>Registered handlers, the loop's own excluded.</summary>
    internal int Count { get; private set; }

    /// <summary>
    /// Registers <paramref name="handler"/> and asks the kernel for the readiness it wants now. Throws,
    /// registering nothing, when the handle is closed, the handler or its descriptor is already registered,
    /// or the backend cannot watch the descriptor.
    /// </summary>
    internal void Add(IEventHandler handler, bool isInternal = false)
    {
        SafeHandle? handle = handler.Handle;
        if (handle is null || handle.IsClosed || handle.IsInvalid)
        {
            throw new ArgumentException($"{handler.GetType().Name}.Handle is closed or invalid.", nameof(handler));
        }

        int fd = checked((int)handle.DangerousGetHandle());
        if (At(fd) is { } holder)
        {
            EvictOrRefuse(holder, handler, fd);
        }

        Interest desired = ReadWants(handler); // before taking a slot: it may throw
        Registration reg = AllocateSlot();
        try
        {
            _poller.Add(fd, desired, reg.Token); // with no interest, only validates (select's limit)
        }
        catch
        {
            FreeSlot(reg);
            throw;
        }

        reg.Occupy(handler, fd, desired, isInternal);
        if (fd >= _byDescriptor.Length)
        {
            Array.Resize(ref _byDescriptor, Math.Max(fd + 1, _byDescriptor.Length * 2));
        }

        _byDescriptor[fd] = reg;
        Count += isInternal ? 0 : 1;
        if (desired != Interest.None)
        {
            Trace?.InterestChanged(handler, fd, Interest.None, desired);
        }
    }

    /// <summary>Unregisters <paramref name="handler"/> from the kernel and the table at once; false if it was not registered.</summary>
    internal bool Remove(IEventHandler handler)
    {
        if (Find(handler) is not { } reg)
        {
            return false;
        }

        if (reg.Registered != Interest.None)
        {
            _poller.Remove(reg.Descriptor);
            Trace?.InterestChanged(handler, reg.Descriptor, reg.Registered, Interest.None);
        }

        Count -= reg.IsInternal ? 0 : 1;
        _byDescriptor[reg.Descriptor] = null;
        FreeSlot(reg);
        return true;
    }

    /// <summary>Queues <paramref name="handler"/>'s wants to be re-read at the next sync; false if it is not registered.</summary>
    internal bool MarkDirty(IEventHandler handler)
    {
        if (Find(handler) is not { } reg)
        {
            return false;
        }

        MarkDirty(reg);
        return true;
    }

    /// <summary>Queues <paramref name="reg"/>'s wants to be re-read at the next sync (idempotent).</summary>
    internal void MarkDirty(Registration reg)
    {
        if (!reg.Dirty)
        {
            reg.Dirty = true;
            _dirty.Add(reg);
        }
    }

    /// <summary>
    /// Re-reads the wants of every dirty registration and calls the kernel only where they changed; the
    /// record changes only after the kernel accepted it. O(touched), not O(registered).
    /// </summary>
    internal void SyncInterest()
    {
        // An index loop: a failure handler may mark others dirty while we iterate.
        for (int i = 0; i < _dirty.Count; i++)
        {
            Registration reg = _dirty[i];
            reg.Dirty = false;
            if (reg.Handler is { } handler)
            {
                Sync(reg, handler);
            }
        }

        _dirty.Clear();
    }

    /// <summary>Waits for readiness; see <see cref="IPoller.Wait"/>.</summary>
    internal int Wait(Span<ReadyEvent> events, int timeoutMs) => _poller.Wait(events, timeoutMs);

    /// <summary>
    /// Finds the live registration <paramref name="ev"/> is meant for and what to dispatch to it: its ready
    /// bits masked with the registered interest, or every registered direction on an error or hang-up (so
    /// the handler's own receive or send sees the failure). False for a stale event.
    /// </summary>
    internal bool TryResolve(in ReadyEvent ev, [NotNullWhen(true)] out Registration? reg, out Interest ready)
    {
        int slot = (int)(uint)ev.Token;
        reg = slot < _slots.Length ? _slots[slot] : null;
        if (reg is null || !reg.IsLive((uint)(ev.Token >> 32)))
        {
            ready = Interest.None;
            return false;
        }

        ready = ev.Failed ? reg.Registered : ev.Ready & reg.Registered;
        return ready != Interest.None;
    }

    /// <summary>A snapshot of the registered handlers, the loop's own excluded.</summary>
    internal IEventHandler[] Handlers()
        => [.. _slots.Where(r => r.Handler is not null && !r.IsInternal).Select(r => r.Handler!)];

    /// <inheritdoc/>
    public void Dispose() => _poller.Dispose();

    private void Sync(Registration reg, IEventHandler handler)
    {
        try
        {
            Interest desired = ReadWants(handler);
            if (desired == reg.Registered)
            {
                return;
            }

            if (reg.Registered == Interest.None)
            {
                _poller.Add(reg.Descriptor, desired, reg.Token);
            }
            else if (desired == Interest.None)
            {
                _poller.Remove(reg.Descriptor); // out of the kernel: a hang-up on a paused descriptor must not spin
            }
            else
            {
                _poller.Modify(reg.Descriptor, desired, reg.Token);
            }

            Trace?.InterestChanged(handler, reg.Descriptor, reg.Registered, desired);
            reg.Registered = desired;
        }
        catch (Exception ex)
        {
            _onSyncFailure(handler, ex);
        }
    }

    /// <summary>
    /// The registration of <paramref name="handler"/>, found through its descriptor (one index for one fact;
    /// a closed SafeHandle keeps its number, so this works during removal too); null if not registered.
    /// </summary>
    internal Registration? Find(IEventHandler handler)
    {
        SafeHandle? handle = handler.Handle;
        Registration? reg = handle is null ? null : At(handle.DangerousGetHandle());
        return reg is not null && ReferenceEquals(reg.Handler, handler) ? reg : null;
    }

    private Registration? At(nint fd) => (nuint)fd < (nuint)_byDescriptor.Length ? _byDescriptor[fd] : null;

    // The descriptor already has a registration. Its handler is this one (a double Add), another live one
    // (two handlers, one descriptor: refused), or one that closed its handle without leaving the loop (a bug,
    // but survivable: the number was reused, so the stale registration is dropped and logged by the caller).
    private void EvictOrRefuse(Registration holder, IEventHandler handler, int fd)
    {
        IEventHandler current = holder.Handler!;
        if (ReferenceEquals(current, handler))
        {
            throw new InvalidOperationException($"{handler.GetType().Name} is already registered with this loop.");
        }

        if (!current.Handle.IsClosed)
        {
            throw new InvalidOperationException($"Descriptor {fd} is already registered by {current.GetType().Name}; one handler per descriptor.");
        }

        EventLoopLog.DescriptorReused(_logger, fd, current.GetType().Name);
        if (holder.Registered != Interest.None)
        {
            _poller.Remove(fd); // poll and select key by number; epoll already forgot the closed file (ENOENT is tolerated)
        }

        Count -= holder.IsInternal ? 0 : 1;
        _byDescriptor[fd] = null;
        FreeSlot(holder);
    }

    private static Interest ReadWants(IEventHandler handler)
        => (handler.WantsToReceive ? Interest.Readable : Interest.None) | (handler.WantsToSend ? Interest.Writable : Interest.None);

    private Registration AllocateSlot()
    {
        if (_freeSlots.TryPop(out int slot))
        {
            return _slots[slot];
        }

        slot = _slots.Length;
        Array.Resize(ref _slots, Math.Max(16, slot * 2));
        for (int i = _slots.Length - 1; i > slot; i--)
        {
            _slots[i] = new Registration(i);
            _freeSlots.Push(i);
        }

        return _slots[slot] = new Registration(slot);
    }

    private void FreeSlot(Registration reg)
    {
        reg.Vacate();
        _freeSlots.Push(reg.Slot);
    }
}
