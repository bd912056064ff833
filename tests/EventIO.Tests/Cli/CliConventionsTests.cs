using System.Text.Json;
using System.Text.RegularExpressions;
using EventIO.Tests.Infrastructure;

namespace EventIO.Tests.Cli;

/// <summary>
/// What every verb of <c>eventio</c> shares: its name in help texts, usage errors (one line, a hint, exit 2),
/// <c>--timeout</c> in seconds, tab completion, and serve's log formats.
/// </summary>
public sealed partial class CliConventionsTests
{
    private static readonly string[] s_verbs = ["serve", "time", "echo", "fib", "bench"];

    [GeneratedRegex(@"^\d+\.\d+\.\d+")]
    private static partial Regex Version();

    [Fact]
    public void Help_StartsWithUsageAndTheCommandName_ListingEveryVerb()
    {
        using CliProcess help = CliProcess.Run("--help");
        Assert.Equal(0, help.ExitCode);
        string[] lines = help.StandardOutput.Split('\n');
        Assert.Equal("Usage:", lines[0]);
        Assert.StartsWith("  eventio [command] [options]", lines[1], StringComparison.Ordinal);
        foreach (string verb in s_verbs)
        {
            Assert.Contains(lines, l => l.StartsWith("  " + verb + " ", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void EveryVerbsHelp_NamesItEventio()
    {
        foreach (string verb in s_verbs)
        {
            using CliProcess help = CliProcess.Run(verb, "--help");
            Assert.Equal(0, help.ExitCode);
            Assert.Contains($"  eventio {verb} ", help.StandardOutput, StringComparison.Ordinal);
            Assert.DoesNotContain("EventIO.Cli", help.StandardOutput, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Version_PrintsTheVersionAndExitsZero()
    {
        using CliProcess version = CliProcess.Run("--version");
        Assert.Equal(0, version.ExitCode);
        Assert.Matches(Version(), version.StandardOutput.Trim());
    }

    [Fact]
    public void NoVerb_IsAUsageErrorListingTheVerbs()
    {
        using CliProcess p = CliProcess.Run();
        UsageErrors.AssertUsageError(p, "eventio");
        Assert.Contains("serve, time, echo, fib, bench", p.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownVerb_IsAUsageErrorNamingIt()
    {
        using CliProcess p = CliProcess.Run("serv");
        UsageErrors.AssertUsageError(p, "eventio");
        Assert.Contains("'serv'", p.StandardError, StringComparison.Ordinal);
    }

    // One unit for one option name: a script that passes --timeout 2 means two seconds to every verb.
    [Fact]
    public void Timeout_IsInSecondsForEveryVerbThatHasIt()
    {
        int verbsWithTimeout = 0;
        foreach (string verb in s_verbs)
        {
            using CliProcess help = CliProcess.Run(verb, "--help");
            string? line = help.StandardOutput.Split('\n').FirstOrDefault(l => l.TrimStart().StartsWith("--timeout", StringComparison.Ordinal));
            if (line is null)
            {
                continue;
            }

            verbsWithTimeout++;
            Assert.Contains("Seconds", line, StringComparison.Ordinal);
            Assert.DoesNotContain("illisecond", line, StringComparison.Ordinal);
        }

        Assert.Equal(4, verbsWithTimeout); // time, echo, fib, bench
    }

    [Theory]
    [InlineData("eventio s", "serve")]
    [InlineData("eventio serve --log-f", "--log-format")]
    [InlineData("eventio serve --log-format ", "systemd")]
    [InlineData("eventio bench tcp --format ", "json")]
    public void SuggestDirective_CompletesVerbsOptionsAndValues(string line, string expected)
    {
        using CliProcess p = CliProcess.Run($"[suggest:{line.Length}]", line);
        Assert.Equal(0, p.ExitCode);
        Assert.Contains(expected, p.StandardOutput.Split('\n'));
    }

    [Fact]
    public void Serve_LogFormatJson_WritesOneJsonObjectPerLineOnStderr()
    {
        using CliProcess serve = CliProcess.Start("serve", "--only", "udp-echo", "--echo-port", "0", "--log-format", "json");
        serve.ReadListeners(expected: 1);
        serve.Signal("TERM");
        serve.WaitForExit(TestTimeouts.Scale(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, serve.ExitCode);

        string[] logs = [.. serve.StandardError.Split('\n').Where(l => l.StartsWith('{'))];
        Assert.NotEmpty(logs);
        foreach (string line in logs)
        {
            using var json = JsonDocument.Parse(line);
            Assert.Equal("eventio", json.RootElement.GetProperty("Category").GetString());
            Assert.True(json.RootElement.TryGetProperty("Timestamp", out _));
        }

        Assert.Contains(logs, l => l.Contains("udp-echo totals", StringComparison.Ordinal));
    }

    [Fact]
    public void Serve_LogFormatSystemd_PrefixesEachLineWithItsPriority()
    {
        using CliProcess serve = CliProcess.Start("serve", "--only", "udp-echo", "--echo-port", "0", "--log-format", "systemd");
        serve.ReadListeners(expected: 1);
        serve.Signal("TERM");
        serve.WaitForExit(TestTimeouts.Scale(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, serve.ExitCode);
        Assert.Contains(serve.StandardError.Split('\n'), l => l.StartsWith("<6>eventio[", StringComparison.Ordinal) && l.Contains("udp-echo totals", StringComparison.Ordinal));
    }
}
