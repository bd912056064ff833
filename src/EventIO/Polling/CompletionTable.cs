namespace EventIO.Polling;

/// <summary>
/// The owners of io_uring requests in flight: one slot per owner, with a generation, encoded in each
/// request's user data with the request's kind (<c>kind &lt;&lt; 56 | generation &lt;&lt; 24 | slot</c>). An owner keeps
/// its slot until the last completion of its last request (the kernel always posts one), so a completion
/// always finds the owner that submitted it, even after that owner closed.
/// </summary>
/// <remarks><b>Threading:</b> loop thread only.</remarks>
internal sealed class CompletionTable
{
    private const int MaxSlots = 1 << 24;

    private readonly Stack<int> _free = new();
    private ICompletionHandler?[] _owners = new ICompletionHandler?[64];
    private uint[] _generations = new uint[64];
    private int _used;

    /// <summary>Slots held now.</summary>
    internal int Count { get; private set; }

    /// <summary>Takes a slot for <paramref name="owner"/>.</summary>
    internal int Add(ICompletionHandler owner)
    {
        if (!_free.TryPop(out int slot))
        {
            if (_used == _owners.Length)
            {
                if (_used == MaxSlots)
                {
                    throw new InvalidOperationException($"More than {MaxSlots} io_uring request owners at once.");
                }

                Array.Resize(ref _owners, _used * 2);
                Array.Resize(ref _generations, _used * 2);
            }

            slot = _used++;
        }

        _owners[slot] = owner;
        Count++;
        return slot;
    }

    /// <summary>Frees a slot: completions tagged with its old generation no longer resolve.</summary>
    internal void Remove(int slot)
    {
        _owners[slot] = null;
        _generations[slot]++;
        _free.Push(slot);
        Count--;
    }

    /// <summary>The user data of a request of kind <paramref name="operation"/> owned by <paramref name="slot"/>.</summary>
    internal ulong UserData(int slot, byte operation)
        => ((ulong)operation << 56) | ((ulong)_generations[slot] << 24) | (uint)slot;

    /// <summary>The owner a completion's user data names, or null if that slot has moved on.</summary>
    internal ICompletionHandler? Resolve(ulong userData)
    {
        int slot = (int)(userData & (MaxSlots - 1));
        uint generation = (uint)(userData >> 24);
        return slot < _used && _generations[slot] == generation ? _owners[slot] : null;
    }
}
