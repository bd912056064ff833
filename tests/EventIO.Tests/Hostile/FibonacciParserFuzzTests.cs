using System.Text;
using EventIO.Servers;
using Xunit.Abstractions;

namespace EventIO.Tests.Hostile;

/// <summary>
/// Property test of <see cref="FibonacciRequest.TryParse"/>: tens of thousands of random and adversarial
/// requests, each checked against an independent oracle (<see cref="FibonacciFuzz.Expect"/>).
/// </summary>
public sealed class FibonacciParserFuzzTests(ITestOutputHelper output)
{
    private const int RandomCases = 25_000;

    [Fact]
    public void TryParse_AgreesWithTheOracle_OnRandomAndAdversarialInput()
    {
        var rng = new Random(FibonacciFuzz.Seed);
        int[] interestingMax = [0, 1, 2, 9, 10, 20, 45, 90, 91];
        var failures = new List<string>();
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        var kinds = new Dictionary<string, int>(StringComparer.Ordinal);
        int cases = 0;

        void Check(byte[] request, int maxN, string kind)
        {
            cases++;
            kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
            FibonacciExpectation expected = FibonacciFuzz.Expect(request, maxN);
            string outcome = expected.Valid ? "valid" : Category(expected.Error!);
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;

            bool ok;
            int n;
            string? error;
            try
            {
                ok = FibonacciRequest.TryParse(request, maxN, out n, out error);
            }
            catch (Exception ex)
            {
                failures.Add($"[{kind}] maxN={maxN} {Describe(request)}: threw {ex.GetType().Name}: {ex.Message}");
                return;
            }

            bool agrees = expected.Valid
                ? ok && n == expected.N && error is null
                : !ok && n == 0 && error == expected.Error;
            if (!agrees)
            {
                failures.Add($"[{kind}] maxN={maxN} {Describe(request)}: expected {(expected.Valid ? $"n={expected.N}" : $"error '{expected.Error}'")}, got {(ok ? $"n={n}" : $"error '{error}' (n={n})")}");
            }
        }

        foreach (int maxN in interestingMax)
        {
            foreach (byte[] request in FibonacciFuzz.Fixed(maxN))
            {
                Check(request, maxN, "fixed");
            }
        }

        for (int i = 0; i < RandomCases; i++)
        {
            int maxN = rng.Next(2) == 0 ? interestingMax[rng.Next(interestingMax.Length)] : rng.Next(0, Fibonacci.MaxComputable + 1);
            (byte[] request, string kind) = FibonacciFuzz.Next(rng, maxN);
            Check(request, maxN, kind);
        }

        output.WriteLine($"seed {FibonacciFuzz.Seed}: {cases} cases; outcomes {Summary(outcomes)}; kinds {Summary(kinds)}");
        Assert.True(failures.Count == 0, $"seed {FibonacciFuzz.Seed}: {failures.Count} of {cases} requests disagree with the oracle, e.g.:\n{string.Join('\n', failures.Take(20))}");

        // The generator must really reach every outcome, or the agreement above proves little.
        Assert.True(cases >= 10_000, $"seed {FibonacciFuzz.Seed}: only {cases} cases");
        foreach (string outcome in new[] { "valid", "empty request", "request too long", "not a number", "negative number", "n must be at most" })
        {
            Assert.True(outcomes.GetValueOrDefault(outcome) >= 200, $"seed {FibonacciFuzz.Seed}: only {outcomes.GetValueOrDefault(outcome)} cases with outcome '{outcome}' ({Summary(outcomes)})");
        }
    }

    [Fact]
    public void Oracle_SaysWhatTheProtocolSays()
    {
        // The oracle is checked against the README's examples, so that agreeing with it means something.
        Assert.Equal(new FibonacciExpectation(true, 10, null), FibonacciFuzz.Expect("10"u8, 45));
        Assert.Equal(new FibonacciExpectation(true, 7, null), FibonacciFuzz.Expect(" 7\n"u8, 45));
        Assert.Equal(new FibonacciExpectation(true, 7, null), FibonacciFuzz.Expect("\v\f007\t\r"u8, 45));
        Assert.Equal("89", FibonacciFuzz.Expect("10"u8, 45).Reply);
        Assert.Equal("1346269", FibonacciFuzz.Expect("30"u8, 45).Reply);
        Assert.Equal("error: not a number", FibonacciFuzz.Expect("abc"u8, 45).Reply);
        Assert.Equal("error: not a number", FibonacciFuzz.Expect("\u00A07"u8, 45).Reply);
        Assert.Equal("error: not a number", FibonacciFuzz.Expect("\u0661\u0660"u8, 45).Reply);
        Assert.Equal("error: not a number", FibonacciFuzz.Expect("1\0"u8, 45).Reply);
        Assert.Equal("error: negative number", FibonacciFuzz.Expect("-3"u8, 45).Reply);
        Assert.Equal("error: n must be at most 45", FibonacciFuzz.Expect("46"u8, 45).Reply);
        Assert.Equal("error: n must be at most 45", FibonacciFuzz.Expect("4294967306"u8, 45).Reply);
        Assert.Equal("error: empty request", FibonacciFuzz.Expect(" \t\r\n"u8, 45).Reply);
        Assert.Equal("error: request too long (at most 32 bytes)", FibonacciFuzz.Expect(Encoding.ASCII.GetBytes(new string('1', 33)), 45).Reply);
        Assert.Equal(7540113804746346429L, FibonacciFuzz.Fib(Fibonacci.MaxComputable));
    }

    private static string Category(string error) => error.StartsWith("request too long", StringComparison.Ordinal) ? "request too long"
        : error.StartsWith("n must be at most", StringComparison.Ordinal) ? "n must be at most"
        : error;

    private static string Summary(Dictionary<string, int> counts) => string.Join(", ", counts.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));

    internal static string Describe(byte[] request) => request.Length <= 48
        ? $"[{request.Length} bytes: {Convert.ToHexString(request)}]"
        : $"[{request.Length} bytes: {Convert.ToHexString(request.AsSpan(0, 24))}…]";
}
