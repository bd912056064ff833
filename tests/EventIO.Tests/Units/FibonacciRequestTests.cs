using System.Text;
using EventIO.Servers;

namespace EventIO.Tests.Units;

/// <summary>Parsing the Fibonacci server's requests, and every reason a request is refused.</summary>
public sealed class FibonacciRequestTests
{
    private const int Max = 45;

    [Theory]
    [InlineData("0", 0)]
    [InlineData("10", 10)]
    [InlineData(" 7\n", 7)]
    [InlineData("\t45\r\n", 45)]
    [InlineData("+3", 3)]
    [InlineData("007", 7)]
    [InlineData("-0", 0)]
    [InlineData("\v\f 12 \r", 12)]
    public void Valid(string request, int expected)
    {
        Assert.True(FibonacciRequest.TryParse(Encoding.ASCII.GetBytes(request), Max, out int n, out string? error));
        Assert.Equal(expected, n);
        Assert.Null(error);
    }

    [Fact]
    public void ThirtyTwoBytes_IsAccepted()
    {
        byte[] request = Encoding.ASCII.GetBytes(new string(' ', 30) + "12");
        Assert.Equal(FibonacciRequest.MaxLength, request.Length);
        Assert.True(FibonacciRequest.TryParseReason(request, Max, out int n, out FibonacciRequestError error));
        Assert.Equal(12, n);
        Assert.Equal(FibonacciRequestError.None, error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\r\n")]
    public void Empty(string request) => AssertError(Encoding.ASCII.GetBytes(request), "empty request");

    [Theory]
    [InlineData(33)]
    [InlineData(100)]
    public void TooLong(int length)
    {
        byte[] request = Encoding.ASCII.GetBytes(new string(' ', length - 1) + "1");
        string error = AssertError(request, null);
        Assert.StartsWith("request too long", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("0x10")]
    [InlineData("1 2")]
    [InlineData("\0")]
    [InlineData("1\0")]
    [InlineData("-")]
    [InlineData("+")]
    [InlineData("--1")]
    [InlineData("1e3")]
    public void NotANumber(string request) => AssertError(Encoding.ASCII.GetBytes(request), "not a number");

    [Theory]
    [InlineData("-1")]
    [InlineData(" -45 ")]
    public void Negative(string request) => AssertError(Encoding.ASCII.GetBytes(request), "negative number");

    [Theory]
    [InlineData("46")]
    [InlineData("99999999999999999999")]
    [InlineData("2147483648")]
    public void AboveMax(string request) => AssertError(Encoding.ASCII.GetBytes(request), "n must be at most 45");

    [Fact]
    public void MaxIsTheCallers()
    {
        Assert.True(FibonacciRequest.TryParseReason("46"u8, 50, out int n, out FibonacciRequestError error));
        Assert.Equal(46, n);
        Assert.Equal(FibonacciRequestError.None, error);
        AssertError("11"u8.ToArray(), "n must be at most 10", max: 10);
    }

    [Fact]
    public void Describe_RefusesNone()
        => Assert.Throws<ArgumentOutOfRangeException>(() => FibonacciRequest.Describe(FibonacciRequestError.None, Max));

    // Checks both overloads: the reason code and the text, which must be the code's description.
    private static string AssertError(byte[] request, string? expected, int max = Max)
    {
        Assert.False(FibonacciRequest.TryParse(request, max, out int n, out string? error));
        Assert.Equal(0, n);
        Assert.NotNull(error);
        Assert.False(FibonacciRequest.TryParseReason(request, max, out _, out FibonacciRequestError reason));
        Assert.Equal(FibonacciRequest.Describe(reason, max), error);
        if (expected is not null)
        {
            Assert.Equal(expected, error);
        }

        return error;
    }
}
