using System.Buffers;

namespace EventIO.Net;

/// <summary>
/// Cuts a byte stream into lines ended by <c>\n</c> (a <c>\r</c> before it is dropped), each at most
/// <see cref="MaxLineLength"/> bytes: the framing block for line-based protocols (chat, Redis inline
/// commands, SMTP-like dialogues).
/// </summary>
/// <remarks>
/// <para><b>Memory:</b> a line that arrives whole inside one read is handed over in place, with no copy;
/// only the unfinished tail of a read is kept, in a buffer rented from <see cref="ArrayPool{T}.Shared"/>
/// and returned as soon as that line is done, so an idle connection holds none. What one connection can
/// make the framer hold is bounded by <see cref="MaxLineLength"/>.</para>
/// <para><b>Too long:</b> a line that grows past the limit is reported once
/// (<see cref="ILineReceiver.OnLineTooLong"/>), dropped up to its end, and framing resumes on the next line.</para>
/// <para><b>Threading:</b> not thread-safe; one framer per connection, on its loop thread.</para>
/// </remarks>
public sealed class LineFramer : IDisposable
{
    private byte[]? _partial;  // the unfinished line, while there is one
    private int _length;
    private bool _discarding;  // inside a line that was too long: drop bytes until its end

    /// <summary>Creates a framer for lines of at most <paramref name="maxLineLength"/> bytes (8 KiB), terminator excluded.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLineLength"/> is below 1.</exception>
    public LineFramer(int maxLineLength = 8 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineLength, 1);
        MaxLineLength = maxLineLength;
    }

    /// <summary>The longest line accepted, without its terminator.</summary>
    public int MaxLineLength { get; }

    /// <summary>Bytes of an unfinished line held now.</summary>
    public int BufferedBytes => _length;

    /// <summary>Feeds <paramref name="data"/>; <paramref name="receiver"/> gets each whole line in order.</summary>
    /// <returns>False if the receiver asked to stop; the rest of <paramref name="data"/> was not looked at.</returns>
    public bool Feed(ReadOnlySpan<byte> data, ILineReceiver receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        while (!data.IsEmpty)
        {
            int end = data.IndexOf((byte)'\n');
            if (end < 0)
            {
                return Keep(data, receiver);
            }

            ReadOnlySpan<byte> piece = data[..end];
            data = data[(end + 1)..];
            if (_discarding)
            {
                _discarding = false; // the over-long line ends here
                continue;
            }

            if (!Deliver(piece, receiver))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Returns the buffer of an unfinished line to the pool and forgets the line.</summary>
    public void Dispose() => Reset();

    private bool Deliver(ReadOnlySpan<byte> piece, ILineReceiver receiver)
    {
        if (_length + piece.Length > MaxLineLength + 1) // + 1: room for a \r before the \n
        {
            Reset();
            return receiver.OnLineTooLong();
        }

        ReadOnlySpan<byte> line = piece;
        if (_length > 0)
        {
            piece.CopyTo(_partial.AsSpan(_length));
            line = _partial.AsSpan(0, _length + piece.Length);
        }

        if (!line.IsEmpty && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        // A line of exactly MaxLineLength + 1 bytes without \r is too long too.
        bool ok = line.Length <= MaxLineLength ? receiver.OnLine(line) : receiver.OnLineTooLong();
        Reset();
        return ok;
    }

    // The tail of a read with no \n: keep it, unless the line is already too long.
    private bool Keep(ReadOnlySpan<byte> tail, ILineReceiver receiver)
    {
        if (_discarding)
        {
            return true;
        }

        if (_length + tail.Length > MaxLineLength + 1)
        {
            Reset();
            _discarding = true;
            return receiver.OnLineTooLong();
        }

        _partial ??= ArrayPool<byte>.Shared.Rent(MaxLineLength + 1);
        tail.CopyTo(_partial.AsSpan(_length));
        _length += tail.Length;
        return true;
    }

    private void Reset()
    {
        _length = 0;
        if (_partial is not null)
        {
            ArrayPool<byte>.Shared.Return(_partial);
            _partial = null;
        }
    }
}
