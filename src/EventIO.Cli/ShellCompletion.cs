using System.CommandLine;
using System.CommandLine.Completions;
using System.Globalization;

namespace EventIO.Cli;

/// <summary>
/// Tab completion: <c>eventio [suggest:POSITION] "COMMAND LINE"</c> prints the words that fit at POSITION, one
/// per line. That is the protocol of System.CommandLine's <c>dotnet-suggest</c> (which calls registered
/// commands so), and a two-line bash function can call it directly (README, "Shell completion").
/// </summary>
/// <remarks>
/// System.CommandLine answers this directive itself only under a <see cref="RootCommand"/>, whose name is the
/// executable's (<c>EventIO.Cli</c>: the assembly cannot be called <c>eventio</c>, see the project file), so
/// the root here is a plain command named <c>eventio</c> and the directive is handled here.
/// </remarks>
internal static class ShellCompletion
{
    private const string Directive = "[suggest";

    /// <summary>True if <paramref name="args"/> ask for completions rather than for a verb.</summary>
    internal static bool IsRequest(string[] args) => args.Length > 0 && args[0].StartsWith(Directive, StringComparison.Ordinal);

    /// <summary>Prints the completions for <c>args[1]</c> (the whole line, from <c>eventio</c>) at the position in <c>args[0]</c>.</summary>
    internal static int Print(Command root, string[] args, TextWriter output)
    {
        string line = args.Length > 1 ? args[1] : string.Empty;
        string position = args[0][Directive.Length..].TrimStart(':').TrimEnd(']');
        int at = int.TryParse(position, NumberStyles.None, CultureInfo.InvariantCulture, out int p) ? Math.Min(p, line.Length) : line.Length;
        foreach (CompletionItem item in root.Parse(line[..at]).GetCompletions(at))
        {
            output.WriteLine(item.Label);
        }

        return ExitCodes.Ok;
    }
}
