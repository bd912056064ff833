using EventIO.Waking;

namespace EventIO;

/// <summary>
/// Actions posted to the loop from any thread, in the shape of Kestrel's <c>IOQueue</c>: enqueue, then
/// one coalesced wake-up; the loop takes everything queued so far as one batch. Its waker is an ordinary
/// handler of the loop's registry.
/// </summary>
/// <remarks>
/// <para><b>Threading:</b> <see cref="TryEnqueue"/> from any thread; everything else on the loop thread.</para>
/// <para><b>Nothing accepted is lost:</b> <see cref="Close"/> refuses later actions under the same lock
/// that <see cref="TryEnqueue"/> takes, so every action for which it returned true is still taken by the
/// loop, and none is accepted after the loop's last drain.</para>
/// </remarks>
internal sealed class PostQueue : IDisposable
{
    private readonly object _gate = new();
    private readonly EventFdWaker _waker;
    private Queue<PostedWork> _pending = new(); // filled by posters, under _gate
    private Queue<PostedWork> _batch = new();   // being run by the loop
    private int _count;                         // _pending.Count, readable without the lock
    private bool _closed;

    internal PostQueue()
    {
        _waker = OperatingSystem.IsLinux()
            ? new EventFdWaker()
            : throw new PlatformNotSupportedException("EventIO runs on Linux only (the loop's waker is an eventfd).");
    }

    /// <summary>The handler the loop registers so that a wake-up makes its poller return.</summary>
    internal IEventHandler Waker => _waker;

    /// <summary>Actions queued and not yet taken into a batch. Any thread; may be stale.</summary>
    internal int PendingCount => Volatile.Read(ref _count);

    /// <summary>True when nothing is queued (may be stale by the time the caller acts on it).</summary>
    internal bool IsEmpty => Volatile.Read(ref _count) == 0 && _batch.Count == 0;

    /// <summary>Queues <paramref name="work"/>; wakes the loop when <paramref name="wake"/>. False once closed.</summary>
    internal bool TryEnqueue(in PostedWork work, bool wake)
    {
        lock (_gate)
        {
            if (_closed)
            {
                return false;
            }

            _pending.Enqueue(work);
            _count = _pending.Count;
        }

        if (wake)
        {
            Wake();
        }

        return true;
    }

    /// <summary>Makes the loop's poller return (coalesced). Any thread; does nothing once disposed.</summary>
    internal void Wake()
    {
        if (OperatingSystem.IsLinux())
        {
            _waker.Wake();
        }
    }

    /// <summary>
    /// Takes every action queued so far as the batch that <see cref="TryTake"/> returns; actions posted
    /// while the batch runs wait for the next call, so posting from a posted action cannot starve I/O.
    /// </summary>
    internal void BeginBatch()
    {
        if (Volatile.Read(ref _count) == 0)
        {
            return;
        }

        lock (_gate)
        {
            (_pending, _batch) = (_batch, _pending);
            _count = 0;
        }
    }

    /// <summary>The next action of the current batch.</summary>
    internal bool TryTake(out PostedWork work) => _batch.TryDequeue(out work);

    /// <summary>Refuses every later action; those accepted before are still taken by the next batches.</summary>
    internal void Close()
    {
        lock (_gate)
        {
            _closed = true;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (OperatingSystem.IsLinux())
        {
            _waker.Dispose();
        }
    }
}
