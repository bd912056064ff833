using System.Globalization;

namespace EventIO.Servers;

/// <summary>Formats a time as C's <c>ctime()</c> does, without the newline: <c>Tue Sep 18 14:29:23 2012</c>.</summary>
public static class CTimeFormat
{
    /// <summary>The formatted length: always 24 ASCII bytes for years 1000–9999.</summary>
    public const int Length = 24;

    private static ReadOnlySpan<byte> Days => "SunMonTueWedThuFriSat"u8;

    private static ReadOnlySpan<byte> Months => "JanFebMarAprMayJunJulAugSepOctNovDec"u8;

    /// <summary>Writes <paramref name="time"/> into <paramref name="destination"/> (at least <see cref="Length"/> bytes) and returns the bytes written.</summary>
    public static int Format(DateTime time, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, Length, nameof(destination));
        Days.Slice((int)time.DayOfWeek * 3, 3).CopyTo(destination);
        destination[3] = (byte)' ';
        Months.Slice((time.Month - 1) * 3, 3).CopyTo(destination[4..]);
        destination[7] = (byte)' ';
        destination[8] = time.Day < 10 ? (byte)' ' : (byte)('0' + (time.Day / 10)); // %e: space-padded day
        destination[9] = (byte)('0' + (time.Day % 10));
        destination[10] = (byte)' ';
        TwoDigits(time.Hour, destination[11..]);
        destination[13] = (byte)':';
        TwoDigits(time.Minute, destination[14..]);
        destination[16] = (byte)':';
        TwoDigits(time.Second, destination[17..]);
        destination[19] = (byte)' ';
        time.Year.TryFormat(destination[20..], out _, "D4", CultureInfo.InvariantCulture);
        return Length;
    }

    private static void TwoDigits(int value, Span<byte> destination)
    {
        destination[0] = (byte)('0' + (value / 10));
        destination[1] = (byte)('0' + (value % 10));
    }
}
