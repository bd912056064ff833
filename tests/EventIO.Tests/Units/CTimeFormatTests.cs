using System.Text;
using EventIO.Servers;

namespace EventIO.Tests.Units;

/// <summary>ctime() formatting without the newline.</summary>
public sealed class CTimeFormatTests
{
    [Theory]
    [InlineData(2012, 9, 18, 14, 29, 23, "Tue Sep 18 14:29:23 2012")]
    [InlineData(2012, 9, 8, 14, 29, 23, "Sat Sep  8 14:29:23 2012")]
    [InlineData(2000, 1, 1, 0, 0, 0, "Sat Jan  1 00:00:00 2000")]
    [InlineData(1999, 12, 31, 23, 59, 59, "Fri Dec 31 23:59:59 1999")]
    [InlineData(2024, 2, 29, 9, 5, 7, "Thu Feb 29 09:05:07 2024")]
    public void Formats_AsCtime(int year, int month, int day, int hour, int minute, int second, string expected)
    {
        var destination = new byte[64];
        destination.AsSpan().Fill((byte)'#');

        int written = CTimeFormat.Format(new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc), destination);

        Assert.Equal(24, written);
        Assert.Equal(CTimeFormat.Length, written);
        Assert.Equal(expected, Encoding.ASCII.GetString(destination, 0, written));
        Assert.Equal((byte)'#', destination[written]); // nothing written past the 24 bytes
    }

    [Fact]
    public void DestinationTooSmall_Throws()
        => Assert.Throws<ArgumentOutOfRangeException>(() => CTimeFormat.Format(new DateTime(2012, 9, 18, 14, 29, 23, DateTimeKind.Utc), new byte[23]));
}
