using System.Text;
using EventIO.Net;

namespace EventIO.Tests.Net;

/// <summary>Line framing: whole lines in place, split lines across reads, \r\n, the length limit, stopping.</summary>
public sealed class LineFramerTests
{
    [Fact]
    public void WholeLines_InOneRead_AreDeliveredInOrder_WithoutTerminators()
    {
        using var framer = new LineFramer();
        var sink = new Sink();

        Assert.True(framer.Feed("one\ntwo\r\n\nthree\n"u8, sink));

        Assert.Equal(["one", "two", "", "three"], sink.Lines);
        Assert.Equal(0, framer.BufferedBytes);
    }

    [Fact]
    public void ALineSplitAcrossReads_IsJoined_AndOnlyTheTailIsHeld()
    {
        using var framer = new LineFramer();
        var sink = new Sink();

        framer.Feed("hel"u8, sink);
        Assert.Equal(3, framer.BufferedBytes);
        framer.Feed("lo, wor"u8, sink);
        framer.Feed("ld\r"u8, sink);
        framer.Feed("\nnext"u8, sink);

        Assert.Equal(["hello, world"], sink.Lines);
        Assert.Equal(4, framer.BufferedBytes);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    public void AnyChunking_GivesTheSameLines(int chunk)
    {
        byte[] stream = Encoding.ASCII.GetBytes("alpha\nbeta\r\ngamma delta\n\nz\n");
        using var framer = new LineFramer(maxLineLength: 16);
        var sink = new Sink();

        for (int i = 0; i < stream.Length; i += chunk)
        {
            framer.Feed(stream.AsSpan(i, Math.Min(chunk, stream.Length - i)), sink);
        }

        Assert.Equal(["alpha", "beta", "gamma delta", "", "z"], sink.Lines);
        Assert.Equal(0, sink.TooLong);
    }

    [Fact]
    public void ALineAtTheLimit_Passes_OneByteMore_IsTooLong_AndFramingResumesAfterIt()
    {
        using var framer = new LineFramer(maxLineLength: 5);
        var sink = new Sink();

        framer.Feed("12345\n123456\nok\n12345\r\n"u8, sink);

        Assert.Equal(["12345", "ok", "12345"], sink.Lines);
        Assert.Equal(1, sink.TooLong);
    }

    [Fact]
    public void AnEndlessLine_IsReportedOnce_HoldsAtMostTheLimit_AndTheNextLineComesThrough()
    {
        using var framer = new LineFramer(maxLineLength: 64);
        var sink = new Sink();
        byte[] junk = new byte[1000];
        Array.Fill(junk, (byte)'x');

        for (int i = 0; i < 100; i++)
        {
            framer.Feed(junk, sink);
            Assert.True(framer.BufferedBytes <= 65);
        }

        framer.Feed("xx\nafter\n"u8, sink);

        Assert.Equal(1, sink.TooLong);
        Assert.Equal(["after"], sink.Lines);
    }

    [Fact]
    public void TheReceiverCanStopFeeding()
    {
        using var framer = new LineFramer();
        var sink = new Sink { StopAfter = 2 };

        Assert.False(framer.Feed("a\nb\nc\n"u8, sink));

        Assert.Equal(["a", "b"], sink.Lines);
    }

    [Fact]
    public void BadArguments_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LineFramer(0));
        using var framer = new LineFramer();
        Assert.Throws<ArgumentNullException>(() => framer.Feed("x\n"u8, null!));
    }

    private sealed class Sink : ILineReceiver
    {
        public List<string> Lines { get; } = [];

        public int TooLong { get; private set; }

        public int StopAfter { get; init; } = int.MaxValue;

        public bool OnLine(ReadOnlySpan<byte> line)
        {
            Lines.Add(Encoding.ASCII.GetString(line));
            return Lines.Count < StopAfter;
        }

        public bool OnLineTooLong()
        {
            TooLong++;
            return true;
        }
    }
}
