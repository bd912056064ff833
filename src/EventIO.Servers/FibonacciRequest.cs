using System.Diagnostics.CodeAnalysis;

namespace EventIO.Servers;

/// <summary>
/// Parses a Fibonacci request: ASCII decimal <c>n</c> with optional surrounding whitespace. Every
/// rejection comes with a reason that the server sends back after <c>error: </c>.
/// </summary>
public static class FibonacciRequest
{
    /// <summary>The longest request accepted, whitespace included (32 bytes).</summary>
    public const int MaxLength = 32;

    /// <summary>
    /// Parses <paramref name="request"/>. Returns true with <paramref name="n"/> in 0..<paramref name="maxN"/>,
    /// or false with <paramref name="error"/>: <c>empty request</c>, <c>request too long</c>,
    /// <c>not a number</c>, <c>negative number</c> or <c>n must be at most {maxN}</c>.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> request, int maxN, out int n, [NotNullWhen(false)] out string? error)
    {
        bool ok = TryParseReason(request, maxN, out n, out FibonacciRequestError reason);
        error = ok ? null : Describe(reason, maxN);
        return ok;
    }

    /// <summary>
    /// Parses <paramref name="request"/> without allocating. Returns true with <paramref name="n"/> in
    /// 0..<paramref name="maxN"/>, or false with the reason in <paramref name="error"/>.
    /// </summary>
    public static bool TryParseReason(ReadOnlySpan<byte> request, int maxN, out int n, out FibonacciRequestError error)
    {
        n = 0;
        if (request.Length > MaxLength)
        {
            error = FibonacciRequestError.TooLong;
            return false;
        }

        ReadOnlySpan<byte> text = Trim(request);
        if (text.IsEmpty)
        {
            error = FibonacciRequestError.Empty;
            return false;
        }

        bool negative = false;
        if (text[0] is (byte)'-' or (byte)'+')
        {
            negative = text[0] == (byte)'-';
            text = text[1..];
            if (text.IsEmpty)
            {
                error = FibonacciRequestError.NotANumber;
                return false;
            }
        }

        long value = 0;
        foreach (byte b in text)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                error = FibonacciRequestError.NotANumber;
                return false;
            }

            // Saturate: the digits are at most 32, and anything above maxN is refused anyway.
            value = Math.Min(value * 10 + (b - '0'), int.MaxValue + 1L);
        }

        if (negative && value != 0)
        {
            error = FibonacciRequestError.Negative;
            return false;
        }

        if (value > maxN)
        {
            error = FibonacciRequestError.TooLarge;
            return false;
        }

        n = (int)value;
        error = FibonacciRequestError.None;
        return true;
    }

    /// <summary>The reason sent back after <c>error: </c> for <paramref name="error"/>, for a server whose largest n is <paramref name="maxN"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="error"/> is <see cref="FibonacciRequestError.None"/> or not defined.</exception>
    public static string Describe(FibonacciRequestError error, int maxN) => error switch
    {
        FibonacciRequestError.Empty => "empty request",
        FibonacciRequestError.TooLong => $"request too long (at most {MaxLength} bytes)",
        FibonacciRequestError.NotANumber => "not a number",
        FibonacciRequestError.Negative => "negative number",
        FibonacciRequestError.TooLarge => $"n must be at most {maxN}",
        _ => throw new ArgumentOutOfRangeException(nameof(error), error, "Not a rejection reason."),
    };

    // ASCII whitespace as C's isspace: space, \t, \n, \v, \f, \r.
    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> s)
    {
        int start = 0, end = s.Length;
        while (start < end && IsSpace(s[start]))
        {
            start++;
        }

        while (end > start && IsSpace(s[end - 1]))
        {
            end--;
        }

        return s[start..end];
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (>= 9 and <= 13);
}
