using System.Buffers;

namespace EventIO.Async;

/// <summary>
/// The blocks of a loop's pipes (<see cref="ConnectionPipe"/>): fixed 4 KiB arrays that go back to this pool when
/// a pipe is done with them and come out again for the next segment, so a steady-state pipe echo allocates
/// nothing. <see cref="MemoryPool{T}.Shared"/> would do the same only while its process-wide array pool keeps
/// arrays for this thread: other threads and its trimming make it miss now and then.
/// </summary>
/// <remarks>
/// One pool per loop; pipes rent and return on the loop thread, the lock only guards against a misuse that would
/// otherwise corrupt the free list. At most <see cref="MaxRetained"/> free blocks are kept; the rest go to the GC.
/// </remarks>
internal sealed class LoopMemoryPool : MemoryPool<byte>
{
    /// <summary>The size of every block (a pipe's default minimum segment).</summary>
    internal const int BlockSize = 4096;

    /// <summary>Free blocks kept for reuse (4 MiB).</summary>
    internal const int MaxRetained = 1024;

    private readonly Stack<Block> _free = new();
    private readonly Lock _lock = new();

    /// <inheritdoc/>
    public override int MaxBufferSize => BlockSize;

    /// <summary>Free blocks held now (for tests).</summary>
    internal int FreeCount
    {
        get
        {
            lock (_lock)
            {
                return _free.Count;
            }
        }
    }

    /// <inheritdoc/>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        Block? block;
        lock (_lock)
        {
            _free.TryPop(out block);
        }

        return (block ?? new Block(this)).Lease();
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        lock (_lock)
        {
            _free.Clear();
        }
    }

    private void Return(Block block)
    {
        lock (_lock)
        {
            if (_free.Count < MaxRetained)
            {
                _free.Push(block);
            }
        }
    }

    private sealed class Block(LoopMemoryPool pool) : IMemoryOwner<byte>
    {
        private readonly byte[] _array = new byte[BlockSize];
        private bool _leased;

        public Memory<byte> Memory => _leased ? _array : throw new ObjectDisposedException(nameof(LoopMemoryPool), "This block was returned to its pool.");

        public void Dispose()
        {
            if (_leased)
            {
                _leased = false;
                pool.Return(this);
            }
        }

        internal Block Lease()
        {
            _leased = true;
            return this;
        }
    }
}
