using System.Buffers.Binary;

namespace EventIO.Cli.Load;

/// <summary>
/// The bytes of every load message, as echoload builds them: message <c>m</c> of connection <c>c</c> is an
/// 8-byte tag <c>(c &lt;&lt; 40) ^ m</c> (little endian) followed by a fixed pseudo-random pattern read at
/// an offset derived from <c>(c, m)</c>. Each message is fully determined by <c>(c, m)</c>, so lost,
/// duplicated, reordered or corrupted bytes never verify.
/// </summary>
internal sealed class MessagePattern
{
    internal const int TagSize = 8;
    private const int PatternSpan = 4096; // offsets wrap here (a power of two)

    private readonly byte[] _pattern;

    internal MessagePattern(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, TagSize);
        Size = size;
        _pattern = new byte[PatternSpan + size + TagSize];
        ulong x = 0x9E3779B97F4A7C15UL; // xorshift64, the same sequence as echoload's pat_init
        for (int i = 0; i < _pattern.Length; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            _pattern[i] = (byte)(x >> 24);
        }
    }

    /// <summary>Message length in bytes.</summary>
    internal int Size { get; }

    internal static ulong Tag(uint connection, ulong message) => ((ulong)connection << 40) ^ message;

    /// <summary>The message number carried by a tag read from <paramref name="connection"/>'s echo.</summary>
    internal static ulong MessageOf(uint connection, ReadOnlySpan<byte> tag)
        => BinaryPrimitives.ReadUInt64LittleEndian(tag) ^ ((ulong)connection << 40);

    /// <summary>Writes message <paramref name="message"/> of <paramref name="connection"/> into <paramref name="destination"/>.</summary>
    internal void Build(Span<byte> destination, uint connection, ulong message)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, Tag(connection, message));
        _pattern.AsSpan(Offset(connection, message) + TagSize, Size - TagSize).CopyTo(destination[TagSize..Size]);
    }

    /// <summary>
    /// True if <paramref name="received"/> equals bytes <c>[offset, offset + received.Length)</c> of message
    /// <paramref name="message"/> of <paramref name="connection"/>.
    /// </summary>
    internal bool Matches(ReadOnlySpan<byte> received, uint connection, ulong message, int offset)
    {
        int i = 0;
        if (offset < TagSize)
        {
            Span<byte> tag = stackalloc byte[TagSize];
            BinaryPrimitives.WriteUInt64LittleEndian(tag, Tag(connection, message));
            i = Math.Min(TagSize - offset, received.Length);
            if (!received[..i].SequenceEqual(tag.Slice(offset, i)))
            {
                return false;
            }
        }

        return received[i..].SequenceEqual(_pattern.AsSpan(Offset(connection, message) + offset + i, received.Length - i));
    }

    private static int Offset(uint connection, ulong message)
        => (int)(((connection * 2654435761u) + ((uint)message * 40503u)) & (PatternSpan - 1));
}
