using EventIO.Net;

namespace EventIO.Tests.Units;

/// <summary>The pooled segment queue of unsent bytes: exact bytes in, exact bytes out, segments returned.</summary>
public sealed class OutgoingBufferTests
{
    [Fact]
    public void New_IsEmpty()
    {
        using var buffer = new OutgoingBuffer();
        Assert.True(buffer.IsEmpty);
        Assert.Equal(0, buffer.Length);
        Assert.Equal(0, buffer.SegmentCount);
        Assert.True(buffer.FirstSpan.IsEmpty);
    }

    [Fact]
    public void AppendAcrossSegments_ThenConsumeAll_PreservesBytes_AndReturnsEverySegment()
    {
        using var buffer = new OutgoingBuffer();
        byte[] data = Pattern((3 * OutgoingBuffer.SegmentSize) + 123, seed: 7);

        buffer.Append(data);

        Assert.Equal(data.Length, buffer.Length);
        Assert.Equal(4, buffer.SegmentCount);
        Assert.Equal(OutgoingBuffer.SegmentSize, buffer.FirstSpan.Length);
        Assert.Equal(data, DrainAll(buffer, chunk: int.MaxValue));
        Assert.Equal(0, buffer.SegmentCount);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void ExactlyOneSegment_IsReleasedWhenSent()
    {
        using var buffer = new OutgoingBuffer();
        buffer.Append(Pattern(OutgoingBuffer.SegmentSize, seed: 1));
        Assert.Equal(1, buffer.SegmentCount);

        buffer.Consume(OutgoingBuffer.SegmentSize);

        Assert.Equal(0, buffer.SegmentCount);
        Assert.True(buffer.IsEmpty);
        buffer.Append([1, 2, 3]); // usable again
        Assert.Equal(new byte[] { 1, 2, 3 }, buffer.FirstSpan.ToArray());
    }

    [Fact]
    public void Consume_MoreThanFirstSpan_Throws()
    {
        using var buffer = new OutgoingBuffer();
        buffer.Append([1, 2, 3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Consume(4));
        Assert.Equal(3, buffer.Length);
    }

    [Fact]
    public void Dispose_DropsEverything()
    {
        var buffer = new OutgoingBuffer();
        buffer.Append(Pattern(5 * OutgoingBuffer.SegmentSize, seed: 3));

        buffer.Dispose();

        Assert.Equal(0, buffer.SegmentCount);
        Assert.Equal(0, buffer.Length);
        Assert.True(buffer.FirstSpan.IsEmpty);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomAppendsAndConsumes_PreserveTheByteStream_AndHoldFewSegments(int seed)
    {
        // The stream is byte i = StreamByte(i), so what comes out can be checked without keeping a copy.
        var random = new Random(seed);
        using var buffer = new OutgoingBuffer();
        long appended = 0, sent = 0;
        var chunk = new byte[3 * OutgoingBuffer.SegmentSize];

        for (int step = 0; step < 3_000; step++)
        {
            if (random.Next(2) == 0)
            {
                int size = random.Next(4) switch
                {
                    0 => random.Next(0, 16),
                    1 => random.Next(0, 2_000),
                    2 => random.Next(0, OutgoingBuffer.SegmentSize + 10),
                    _ => random.Next(0, chunk.Length + 1),
                };
                for (int i = 0; i < size; i++)
                {
                    chunk[i] = StreamByte(appended + i);
                }

                buffer.Append(chunk.AsSpan(0, size));
                appended += size;
            }
            else if (!buffer.IsEmpty)
            {
                ReadOnlySpan<byte> first = buffer.FirstSpan;
                Assert.False(first.IsEmpty);
                int n = random.Next(3) == 0 ? first.Length : random.Next(0, first.Length + 1);
                sent = CheckStream(first[..n], sent);
                buffer.Consume(n);
            }

            Assert.Equal(appended - sent, buffer.Length);
            Assert.Equal(appended == sent, buffer.IsEmpty);

            // Bounded memory: the queued bytes plus at most one partly sent and one partly filled segment.
            long fullSegments = (buffer.Length + OutgoingBuffer.SegmentSize - 1) / OutgoingBuffer.SegmentSize;
            Assert.InRange(buffer.SegmentCount, fullSegments, fullSegments + 1);
        }

        while (!buffer.IsEmpty)
        {
            int n = Math.Min(1_000, buffer.FirstSpan.Length);
            sent = CheckStream(buffer.FirstSpan[..n], sent);
            buffer.Consume(n);
        }

        Assert.Equal(appended, sent);
        Assert.Equal(0, buffer.SegmentCount);
        Assert.Equal(0, buffer.Length);
    }

    private static byte StreamByte(long index) => (byte)((index * 31) % 251);

    private static long CheckStream(ReadOnlySpan<byte> bytes, long index)
    {
        for (int i = 0; i < bytes.Length; i++, index++)
        {
            if (bytes[i] != StreamByte(index))
            {
                Assert.Fail($"byte {index} of the stream is {bytes[i]}, expected {StreamByte(index)}");
            }
        }

        return index;
    }

    private static byte[] DrainAll(OutgoingBuffer buffer, int chunk)
    {
        var output = new List<byte>();
        while (!buffer.IsEmpty)
        {
            ReadOnlySpan<byte> first = buffer.FirstSpan;
            int n = Math.Min(chunk, first.Length);
            output.AddRange(first[..n].ToArray());
            buffer.Consume(n);
        }

        return [.. output];
    }

    private static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
