namespace EventIO.Servers;

/// <summary>The recipe's deliberately naive Fibonacci: slow on purpose, the CPU work to offload.</summary>
public static class Fibonacci
{
    /// <summary>The largest n whose result fits in a <see cref="long"/> (fib(91) with fib(0) = fib(1) = 1).</summary>
    public const int MaxComputable = 91;

    /// <summary>fib(0) = fib(1) = 1, fib(n) = fib(n-1) + fib(n-2), computed by plain recursion (O(φⁿ) time).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is negative or above <see cref="MaxComputable"/>.</exception>
    public static long Compute(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(n, MaxComputable);
        return Naive(n);
    }

    private static long Naive(int n) => n < 2 ? 1 : Naive(n - 1) + Naive(n - 2);
}
