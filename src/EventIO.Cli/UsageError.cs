using System.CommandLine;
using System.CommandLine.Parsing;

namespace EventIO.Cli;

/// <summary>
/// How a wrong command line is reported: one error on one line, then where the help is, on stderr (as git
/// does); never the whole help text, which would bury the line that matters.
/// </summary>
internal static class UsageError
{
    /// <summary>Prints one of <paramref name="result"/>'s errors and the help hint; returns <see cref="ExitCodes.Usage"/>.</summary>
    internal static int Report(ParseResult result, TextWriter error)
    {
        string verb = CommandPath(result.CommandResult);
        string message = result.Tokens.Count == 0
            ? $"a command is required: {string.Join(", ", result.RootCommandResult.Command.Subcommands.Select(c => c.Name))}."
            : Describe(result.Errors[^1]); // the last: about the latest token (not "Required command was not provided" before "Unrecognized command 'x'")
        error.WriteLine($"{verb}: {message}");
        error.WriteLine($"See '{verb} --help'.");
        return ExitCodes.Usage;
    }

    // One line, naming the option if the parser's message does not ("Argument 'xml' not recognized. Must be one of: …").
    private static string Describe(ParseError parseError)
    {
        string message = string.Join(' ', parseError.Message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Option? option = (parseError.SymbolResult as OptionResult)?.Option ?? (parseError.SymbolResult?.Parent as OptionResult)?.Option;
        return option is not null && !message.Contains(option.Name, StringComparison.Ordinal) ? $"{option.Name}: {message}" : message;
    }

    /// <summary><c>eventio</c>, or <c>eventio serve</c>: the command the error is about.</summary>
    private static string CommandPath(CommandResult command)
    {
        var names = new Stack<string>();
        for (SymbolResult? at = command; at is not null; at = at.Parent)
        {
            if (at is CommandResult c)
            {
                names.Push(c.Command.Name);
            }
        }

        return string.Join(' ', names);
    }
}
