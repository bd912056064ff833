namespace EventIO.Net;

/// <summary>
/// A cap on the connections open at once from one IP address (port aside; IPv4 and IPv4-mapped IPv6 count
/// as one), shared by several <see cref="TcpServer"/>s (one per loop, say) so that
/// <c>--max-connections-per-ip</c> holds for the process. Remembers only addresses with a connection open:
/// its size is bounded by the connections themselves. Thread-safe; O(1) per accept and close.
/// </summary>
public sealed class AddressConnectionLimit
{
    private readonly Dictionary<UInt128, int> _open = [];

    /// <summary>Allows at most <paramref name="maxPerAddress"/> connections open at once from one address.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxPerAddress"/> is below 1.</exception>
    public AddressConnectionLimit(int maxPerAddress)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerAddress, 1);
        MaxPerAddress = maxPerAddress;
    }

    /// <summary>The most connections open at once from one address.</summary>
    public int MaxPerAddress { get; }

    /// <summary>Addresses with at least one connection open now. Any thread.</summary>
    public int AddressCount
    {
        get
        {
            lock (_open)
            {
                return _open.Count;
            }
        }
    }

    /// <summary>Counts one more connection from <paramref name="address"/> unless it has its maximum open. Any thread.</summary>
    internal bool TryAcquire(UInt128 address)
    {
        lock (_open)
        {
            ref int count = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_open, address, out _);
            if (count >= MaxPerAddress)
            {
                return false;
            }

            count++;
            return true;
        }
    }

    /// <summary>Counts one connection fewer from <paramref name="address"/>. Any thread.</summary>
    internal void Release(UInt128 address)
    {
        lock (_open)
        {
            ref int count = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrNullRef(_open, address);
            if (System.Runtime.CompilerServices.Unsafe.IsNullRef(ref count))
            {
                return;
            }

            if (--count <= 0)
            {
                _open.Remove(address);
            }
        }
    }
}
