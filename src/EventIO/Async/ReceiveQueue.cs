using System.Buffers;

namespace EventIO.Async;

/// <summary>
/// Bytes received for an <see cref="AsyncTcpConnection"/> that no receive has taken yet: one pooled array,
/// rented when the first byte waits and returned as soon as the last one is taken, so an idle connection (or
/// one whose reader keeps up) holds no buffer.
/// </summary>
/// <remarks><b>Threading:</b> loop thread only. The bound is the owner's: it stops reading its peer past a limit.</remarks>
internal sealed class ReceiveQueue
{
    private const int MinimumSize = 4096;

    private byte[]? _buffer;
    private int _start;
    private int _end;

    /// <summary>Bytes waiting.</summary>
    internal int Count => _end - _start;

    /// <summary>The bytes waiting, oldest first (valid until the next change).</summary>
    internal ReadOnlySpan<byte> Waiting => _buffer.AsSpan(_start, Count);

    /// <summary>Copies <paramref name="data"/> to the end of the queue.</summary>
    internal void Append(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        if (_buffer is null)
        {
            _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(data.Length, MinimumSize));
        }
        else if (_buffer.Length - _end < data.Length)
        {
            MakeRoom(data.Length);
        }

        data.CopyTo(_buffer.AsSpan(_end));
        _end += data.Length;
    }

    /// <summary>Moves up to <paramref name="destination"/>'s length of the oldest bytes into it; returns how many.</summary>
    internal int Take(Span<byte> destination)
    {
        int n = Math.Min(destination.Length, Count);
        if (n == 0)
        {
            return 0;
        }

        _buffer.AsSpan(_start, n).CopyTo(destination);
        _start += n;
        if (_start == _end)
        {
            Release();
        }

        return n;
    }

    /// <summary>Drops what is queued and returns the array to the pool.</summary>
    internal void Release()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }

        _start = 0;
        _end = 0;
    }

    // Compacts in place when the free space suffices, else moves to a larger pooled array.
    private void MakeRoom(int needed)
    {
        int count = Count;
        byte[] target = _buffer!.Length - count >= needed ? _buffer : ArrayPool<byte>.Shared.Rent(count + needed);
        _buffer.AsSpan(_start, count).CopyTo(target);
        if (!ReferenceEquals(target, _buffer))
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = target;
        }

        _start = 0;
        _end = count;
    }
}
