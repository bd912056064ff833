using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.RegularExpressions;

namespace EventIO.Tests.Hostile;

/// <summary>What a Fibonacci request must produce: a valid n, or the error the server sends after <c>error: </c>.</summary>
internal readonly record struct FibonacciExpectation(bool Valid, int N, string? Error)
{
    /// <summary>The server's whole reply: fib(n) in decimal (fib(0) = fib(1) = 1), or <c>error: </c> and the reason.</summary>
    public string Reply => Valid ? FibonacciFuzz.Fib(N).ToString(CultureInfo.InvariantCulture) : "error: " + Error;
}

/// <summary>
/// The fuzzer's two halves: a generator of random and adversarial requests, and an oracle for them written
/// from the protocol's description (README: "ASCII decimal n with optional surrounding whitespace", at
/// most 32 bytes) without looking at how <see cref="EventIO.Servers.FibonacciRequest"/> does it: a regular
/// expression over the trimmed text and arbitrary-precision arithmetic.
/// </summary>
internal static partial class FibonacciFuzz
{
    /// <summary>The fixed seed of every fuzz run; printed in each assertion message so a failure can be replayed.</summary>
    public const int Seed = 20240917;

    public const int MaxRequestLength = 32;

    /// <summary>The largest UDP payload over IPv4.</summary>
    public const int MaxDatagram = 65_507;

    // C's isspace in the "C" locale: space, \t, \n, \v, \f, \r. Nothing else (no NBSP, no 0x1C–0x1F, no NUL).
    private const string CSpaces = " \t\n\v\f\r";

    private static readonly string[] s_unicodeDigitZeros =
    [
        "\u0660", // Arabic-Indic ٠
        "\u06F0", // Extended Arabic-Indic ۰
        "\u0966", // Devanagari ०
        "\u09E6", // Bengali ০
        "\uFF10", // Fullwidth ０
        "\U0001D7CE", // Mathematical bold 𝟎 (4 bytes in UTF-8)
    ];

    private static readonly string[] s_otherSpaces = ["\u00A0", "\u2007", "\u3000", "\u0085", "\u200B", "\uFEFF", "\x1C", "\x1F", "\0"];

    private static readonly string[] s_notNumbers =
    [
        "NaN", "Infinity", "-Infinity", "∞", "1.5", "10.0", ".5", "5.", "1e3", "1E1", "0x10", "0X1f", "0b101", "0o17", "1A", "ff", "٣",
        "10_000", "1,000", "1 0", "1\t0", "+-1", "-+1", "--1", "++1", "- 1", "+ 1", "1-", "1+", "(1)", "#10", "10%", "ten", "١٠",
        "²", "¹⁰", "½", "Ⅻ", "0.0", "-0.0", "1e-3", "0x", "0", "00", "-0", "+0", "-00000",
    ];

    /// <summary>The oracle: what <paramref name="request"/> must produce when the largest n is <paramref name="maxN"/>.</summary>
    public static FibonacciExpectation Expect(ReadOnlySpan<byte> request, int maxN)
    {
        if (request.Length > MaxRequestLength)
        {
            return new(false, 0, $"request too long (at most {MaxRequestLength} bytes)");
        }

        // Latin-1 maps every byte to the char of the same value, so the regex sees the bytes themselves.
        string text = Encoding.Latin1.GetString(request).Trim(CSpaces.ToCharArray());
        if (text.Length == 0)
        {
            return new(false, 0, "empty request");
        }

        Match match = Number().Match(text);
        if (!match.Success)
        {
            return new(false, 0, "not a number");
        }

        BigInteger value = BigInteger.Parse(match.Groups["digits"].Value, NumberStyles.None, CultureInfo.InvariantCulture);
        if (match.Groups["sign"].Value == "-" && !value.IsZero)
        {
            return new(false, 0, "negative number");
        }

        if (value > maxN)
        {
            return new(false, 0, $"n must be at most {maxN}");
        }

        return new(true, (int)value, null);
    }

    /// <summary>fib(n) with fib(0) = fib(1) = 1, by iteration.</summary>
    public static long Fib(int n)
    {
        long previous = 1, current = 1;
        for (int i = 2; i <= n; i++)
        {
            (previous, current) = (current, checked(previous + current));
        }

        return current;
    }

    /// <summary>One random or adversarial request, at most <paramref name="maxLength"/> bytes, with the name of its kind.</summary>
    public static (byte[] Request, string Kind) Next(Random rng, int maxN, int maxLength = MaxDatagram)
    {
        (byte[] request, string kind) = rng.Next(100) switch
        {
            < 14 => (Junk(rng, rng.Next(0, 101)), "junk"),
            < 22 => (Utf8(FromAlphabet(rng, rng.Next(0, 41))), "alphabet"),
            < 40 => (Utf8(Decorate(rng, NearMax(rng, maxN).ToString(CultureInfo.InvariantCulture))), "near max"),
            < 50 => (Utf8(Decorate(rng, Huge(rng))), "huge"),
            < 56 => (Utf8(Decorate(rng, Wrapping(rng, maxN))), "wraps"),
            < 62 => (Utf8(Decorate(rng, s_notNumbers[rng.Next(s_notNumbers.Length)])), "not a number"),
            < 67 => (Utf8(Decorate(rng, Float(rng))), "float"),
            < 71 => (Utf8(Decorate(rng, Hex(rng))), "hex"),
            < 77 => (Utf8(Whitespace(rng, maxN)), "whitespace"),
            < 82 => (Encoding.UTF8.GetBytes(UnicodeDigits(rng, maxN)), "unicode digits"),
            < 87 => (WithNul(rng, Utf8(Decorate(rng, rng.Next(0, maxN + 1).ToString(CultureInfo.InvariantCulture)))), "NUL"),
            < 95 => (Mutate(rng, Utf8(Decorate(rng, rng.Next(0, maxN + 1).ToString(CultureInfo.InvariantCulture)))), "mutated"),
            < 97 => (Utf8(SixtyThousandDigits(rng)), "60000 digits"),
            _ => (Junk(rng, rng.Next(MaxRequestLength + 1, 2000)), "long junk"),
        };

        return (request.Length > maxLength ? request[..maxLength] : request, kind);
    }

    /// <summary>A valid request for some n in 0..<paramref name="maxN"/>, maybe with whitespace, a plus sign, leading zeros.</summary>
    public static byte[] NextValid(Random rng, int maxN)
    {
        string text;
        do
        {
            text = Decorate(rng, rng.Next(0, maxN + 1).ToString(CultureInfo.InvariantCulture));
        }
        while (text.Length > MaxRequestLength || text.Contains('-', StringComparison.Ordinal));

        return Utf8(text);
    }

    /// <summary>Requests that must be tried whatever the random draw: boundaries and famous troublemakers.</summary>
    public static IEnumerable<byte[]> Fixed(int maxN)
    {
        string[] texts =
        [
            "", " ", "0", "1", "-0", "+0", "-", "+", "00000000000000000000000000000000", "+0000000000000000000000000000000",
            maxN.ToString(CultureInfo.InvariantCulture), (maxN + 1).ToString(CultureInfo.InvariantCulture), (maxN - 1).ToString(CultureInfo.InvariantCulture),
            "2147483647", "2147483648", "-2147483648", "-2147483649", "4294967295", "4294967296", "9223372036854775807", "9223372036854775808",
            "18446744073709551615", "18446744073709551616", (4294967296L + maxN).ToString(CultureInfo.InvariantCulture),
            (BigInteger.Pow(2, 64) + maxN).ToString(CultureInfo.InvariantCulture), new string('9', 32), new string('9', 33),
            new string(' ', 31) + "1", new string(' ', 32) + "1", new string('0', 31) + "1", "\t\n\v\f\r 7 \r\f\v\n\t", " \u00A07", "7\u00A0",
        ];

        foreach (string text in texts)
        {
            yield return Encoding.UTF8.GetBytes(text);
        }

        yield return [0];
        yield return [(byte)'1', 0];
        yield return [0, (byte)'1'];
        yield return [(byte)'1', 0, (byte)'2'];
        yield return Utf8(new string('7', 60_000));
        yield return Utf8(new string('0', MaxDatagram));
    }

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static byte[] Junk(Random rng, int length)
    {
        var bytes = new byte[length];
        rng.NextBytes(bytes);
        return bytes;
    }

    private static string FromAlphabet(Random rng, int length)
    {
        const string Alphabet = "0123456789012345678901234567890123456789+-+- \t\r\n\v\f.eExX_,\0\x7F\xA0\xFF";
        var sb = new StringBuilder(length);
        for (int i = 0; i < length; i++)
        {
            sb.Append(Alphabet[rng.Next(Alphabet.Length)]);
        }

        return sb.ToString();
    }

    // Surrounding whitespace (any of C's six, including none), an optional sign and leading zeros: lengths
    // land on both sides of the 32-byte limit.
    private static string Decorate(Random rng, string core)
    {
        var sb = new StringBuilder();
        AppendSpaces(rng, sb, rng.Next(3) == 0 ? rng.Next(0, 20) : rng.Next(0, 3));
        int sign = rng.Next(8);
        if (sign == 0)
        {
            sb.Append('-');
        }
        else if (sign == 1)
        {
            sb.Append('+');
        }

        if (rng.Next(4) == 0)
        {
            sb.Append('0', rng.Next(1, 35));
        }

        sb.Append(core);
        AppendSpaces(rng, sb, rng.Next(3) == 0 ? rng.Next(0, 20) : rng.Next(0, 3));
        return sb.ToString();
    }

    private static void AppendSpaces(Random rng, StringBuilder sb, int count)
    {
        for (int i = 0; i < count; i++)
        {
            sb.Append(CSpaces[rng.Next(CSpaces.Length)]);
        }
    }

    private static long NearMax(Random rng, int maxN) => rng.Next(4) switch
    {
        0 => rng.Next(0, maxN + 1),
        1 => maxN + rng.Next(-3, 4),
        2 => rng.Next(0, 1000),
        _ => rng.NextInt64(),
    };

    private static string Huge(Random rng)
    {
        int digits = rng.Next(10) == 0 ? rng.Next(33, 400) : rng.Next(9, 33);
        var sb = new StringBuilder(digits);
        sb.Append((char)('1' + rng.Next(9)));
        for (int i = 1; i < digits; i++)
        {
            sb.Append((char)('0' + rng.Next(10)));
        }

        return sb.ToString();
    }

    // Numbers that a parser overflowing 32 or 64 bits would read as a small, valid n.
    private static string Wrapping(Random rng, int maxN)
    {
        BigInteger small = rng.Next(0, maxN + 1);
        BigInteger modulus = rng.Next(3) switch
        {
            0 => BigInteger.Pow(2, 32),
            1 => BigInteger.Pow(2, 64),
            _ => BigInteger.Pow(2, 31),
        };
        return (modulus * rng.Next(1, 4) + small).ToString(CultureInfo.InvariantCulture);
    }

    private static string Float(Random rng) => rng.Next(5) switch
    {
        0 => $"{rng.Next(0, 100)}.{rng.Next(0, 100)}",
        1 => $"{rng.Next(0, 10)}e{rng.Next(-3, 4)}",
        2 => $".{rng.Next(0, 100)}",
        3 => $"{rng.Next(0, 100)}.",
        _ => (rng.NextDouble() * 100).ToString("R", CultureInfo.InvariantCulture),
    };

    private static string Hex(Random rng)
    {
        string digits = rng.Next(0, 0x100).ToString(rng.Next(2) == 0 ? "x" : "X", CultureInfo.InvariantCulture);
        return rng.Next(3) switch
        {
            0 => "0x" + digits,
            1 => "0X" + digits,
            _ => digits + (rng.Next(2) == 0 ? "h" : "a"),
        };
    }

    // Whitespace of every sort around, inside or instead of a number: C's six, and look-alikes that are not
    // C whitespace (NBSP, U+2007, U+3000, NEL, zero-width space, BOM, 0x1C–0x1F, NUL).
    private static string Whitespace(Random rng, int maxN)
    {
        string number = rng.Next(0, maxN + 1).ToString(CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        switch (rng.Next(4))
        {
            case 0:
                AppendSpaces(rng, sb, rng.Next(0, 34));
                break;
            case 1:
                AppendSpaces(rng, sb, rng.Next(0, 4));
                sb.Append(number);
                AppendSpaces(rng, sb, rng.Next(0, 4));
                break;
            case 2:
                sb.Append(number[..1]);
                AppendSpaces(rng, sb, rng.Next(1, 3));
                sb.Append(number);
                break;
            default:
                string other = s_otherSpaces[rng.Next(s_otherSpaces.Length)];
                sb.Append(rng.Next(2) == 0 ? other + number : number + other);
                break;
        }

        return sb.ToString();
    }

    // Digits from other scripts (Arabic-Indic, Devanagari, fullwidth, mathematical bold …) encoded in UTF-8,
    // alone or mixed with ASCII digits: char.IsDigit says yes to all of them; the protocol says no.
    private static string UnicodeDigits(Random rng, int maxN)
    {
        string zero = s_unicodeDigitZeros[rng.Next(s_unicodeDigitZeros.Length)];
        string number = rng.Next(0, maxN + 1).ToString(CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        bool mixed = rng.Next(2) == 0;
        for (int i = 0; i < number.Length; i++)
        {
            if (mixed && i % 2 == 0)
            {
                sb.Append(number[i]);
            }
            else
            {
                sb.Append(char.ConvertFromUtf32(char.ConvertToUtf32(zero, 0) + (number[i] - '0')));
            }
        }

        return sb.ToString();
    }

    private static byte[] WithNul(Random rng, byte[] request)
    {
        int at = rng.Next(request.Length + 1);
        return [.. request[..at], 0, .. request[at..]];
    }

    private static byte[] Mutate(Random rng, byte[] request)
    {
        var bytes = new List<byte>(request);
        int edits = rng.Next(1, 4);
        for (int e = 0; e < edits; e++)
        {
            int at = rng.Next(bytes.Count + 1);
            switch (rng.Next(3))
            {
                case 0:
                    bytes.Insert(at, (byte)rng.Next(256));
                    break;
                case 1 when at < bytes.Count:
                    bytes.RemoveAt(at);
                    break;
                default:
                    if (at < bytes.Count)
                    {
                        bytes[at] = (byte)(bytes[at] ^ (1 << rng.Next(8)));
                    }

                    break;
            }
        }

        return [.. bytes];
    }

    private static string SixtyThousandDigits(Random rng) => rng.Next(3) switch
    {
        0 => new string('9', 60_000),
        1 => "1" + new string('0', 59_999),
        _ => new string('0', 59_998) + "10",
    };

    [GeneratedRegex(@"\A(?<sign>[+-]?)(?<digits>[0-9]+)\z", RegexOptions.CultureInvariant)]
    private static partial Regex Number();
}
