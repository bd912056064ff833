using EventIO.Servers;

namespace EventIO.Tests.Units;

/// <summary>The recipe's Fibonacci, with fib(0) = fib(1) = 1.</summary>
public sealed class FibonacciTests
{
    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(10, 89)]
    [InlineData(30, 1346269)]
    public void Compute(int n, long expected) => Assert.Equal(expected, Fibonacci.Compute(n));

    [Theory]
    [InlineData(-1)]
    [InlineData(Fibonacci.MaxComputable + 1)]
    public void Compute_OutOfRange_Throws(int n)
        => Assert.Throws<ArgumentOutOfRangeException>(() => Fibonacci.Compute(n));
}
