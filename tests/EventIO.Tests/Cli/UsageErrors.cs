using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Cli;

/// <summary>What every usage error of <c>eventio</c> looks like: exit code 2, two lines on stderr, nothing on stdout.</summary>
public static class UsageErrors
{
    /// <summary>Asserts that <paramref name="process"/> ended with a usage error of <paramref name="verb"/> (<c>eventio serve</c>).</summary>
    public static void AssertUsageError(CliProcess process, string verb)
    {
        Assert.True(process.ExitCode == 2, $"exit code {process.ExitCode}, expected 2 (usage); stderr: {process.StandardError}");
        string[] lines = process.StandardError.Trim().Split('\n');
        Assert.True(lines.Length == 2, $"expected the error and the hint, got: {process.StandardError}");
        Assert.StartsWith(verb + ": ", lines[0], StringComparison.Ordinal);
        Assert.Equal($"See '{verb} --help'.", lines[1]);
        Assert.True(string.IsNullOrWhiteSpace(process.StandardOutput), $"stdout: {process.StandardOutput}");
    }
}
