using System.Runtime.CompilerServices;

namespace EventIO.Net;

/// <summary>
/// The unsent bytes of one connection: a queue of pooled fixed-size segments. Appending copies into
/// the tail segment (never a growing array copied on every send); sending reads the head segment;
/// segments go back to <see cref="SegmentPool"/> as soon as they are sent, so an idle
/// connection holds none. Segments are pinned (the pinned object heap), so the kernel can be handed
/// their address for a send it completes later.
/// </summary>
/// <remarks><b>Threading:</b> not thread-safe; owned by one connection on the loop thread.</remarks>
internal sealed class OutgoingBuffer : IDisposable
{
    /// <summary>16 KiB: large enough that a send moves a useful amount, small enough to waste little.</summary>
    internal const int SegmentSize = 16 * 1024;

    private byte[]?[] _ring = [];
    private int _head;        // ring index of the oldest segment
    private int _segments;    // segments in use
    private int _headOffset;  // bytes of the head segment already sent
    private int _tailLength;  // bytes written into the newest segment

    /// <summary>Bytes queued and not yet sent.</summary>
    internal long Length { get; private set; }

    /// <summary>True when nothing is queued.</summary>
    internal bool IsEmpty => Length == 0;

    /// <summary>The number of pooled segments held (for tests of memory bounds).</summary>
    internal int SegmentCount => _segments;

    /// <summary>The oldest unsent bytes: what the next send should write. Empty when nothing is queued.</summary>
    internal ReadOnlySpan<byte> FirstSpan
    {
        get
        {
            if (_segments == 0)
            {
                return default;
            }

            int end = _segments == 1 ? _tailLength : SegmentSize;
            return _ring[_head].AsSpan(_headOffset, end - _headOffset);
        }
    }

    /// <summary>Queues a copy of <paramref name="data"/>.</summary>
    internal void Append(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_segments == 0 || _tailLength == SegmentSize)
            {
                AddSegment();
            }

            byte[] tail = _ring[(_head + _segments - 1) % _ring.Length]!;
            int n = Math.Min(data.Length, SegmentSize - _tailLength);
            data[..n].CopyTo(tail.AsSpan(_tailLength));
            _tailLength += n;
            Length += n;
            data = data[n..];
        }
    }

    /// <summary>Marks <paramref name="count"/> bytes of <see cref="FirstSpan"/> as sent.</summary>
    internal void Consume(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, FirstSpan.Length);
        _headOffset += count;
        Length -= count;
        int end = _segments == 1 ? _tailLength : SegmentSize;
        if (_headOffset == end)
        {
            ReleaseHead();
        }
    }

    /// <summary>Drops everything queued and returns every segment to the pool.</summary>
    public void Dispose()
    {
        while (_segments > 0)
        {
            ReleaseHead();
        }

        Length = 0;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AddSegment()
    {
        if (_segments == _ring.Length)
        {
            var bigger = new byte[]?[Math.Max(4, _ring.Length * 2)];
            for (int i = 0; i < _segments; i++)
            {
                bigger[i] = _ring[(_head + i) % _ring.Length];
            }

            _ring = bigger;
            _head = 0;
        }

        _ring[(_head + _segments) % _ring.Length] = SegmentPool.Rent(SegmentSize);
        _segments++;
        _tailLength = 0;
    }

    private void ReleaseHead()
    {
        SegmentPool.Return(_ring[_head]!);
        _ring[_head] = null;
        _head = (_head + 1) % _ring.Length;
        _segments--;
        _headOffset = 0;
        if (_segments == 0)
        {
            _head = 0;
            _tailLength = 0;
        }
    }
}
