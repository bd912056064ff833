using System.CommandLine;

namespace EventIO.Cli;

/// <summary>
/// Help as System.CommandLine writes it, with the usage first (<c>Usage:</c>, then <c>eventio serve [options]</c>)
/// and the description after it, untitled, as git and docker print theirs.
/// </summary>
internal static class HelpText
{
    private const string DescriptionTitle = "Description:";

    /// <summary>Runs the help action of <paramref name="result"/> into a buffer and prints it reordered.</summary>
    internal static int Print(ParseResult result, TextWriter output)
    {
        var buffer = new StringWriter();
        int status = result.Invoke(new InvocationConfiguration { Output = buffer, Error = Console.Error });
        output.Write(Reorder(buffer.ToString()));
        return status;
    }

    /// <summary>Moves the <c>Description:</c> section (title dropped) after the <c>Usage:</c> section.</summary>
    internal static string Reorder(string help)
    {
        List<string> sections = [.. help.ReplaceLineEndings("\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries)];
        int description = sections.FindIndex(s => s.StartsWith(DescriptionTitle, StringComparison.Ordinal));
        int usage = sections.FindIndex(s => s.StartsWith("Usage:", StringComparison.Ordinal));
        if (description < 0 || usage < description)
        {
            return help;
        }

        string text = sections[description][DescriptionTitle.Length..].Trim('\n');
        sections.RemoveAt(description);
        usage--;
        if (text.Trim().Length > 0)
        {
            sections.Insert(usage + 1, string.Join('\n', text.Split('\n').Select(l => l.TrimStart())));
        }

        return string.Join("\n\n", sections).TrimEnd('\n') + "\n\n";
    }
}
