using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace EventIO.Cli;

/// <summary>The <c>eventio</c> command: verb dispatch only. Exit codes: <see cref="ExitCodes"/>.</summary>
internal static class Program
{
    private const string ServeDescription = "Run the recipe's servers on one event loop.";
    private const string BenchDescription = "Load an echo server and report round trips per second and latency percentiles.";

    private static int Main(string[] args)
    {
        Command root = CreateRoot();
        if (ShellCompletion.IsRequest(args))
        {
            return ShellCompletion.Print(root, args, Console.Out);
        }

        ParseResult result = root.Parse(args);
        if (result.Action is ParseErrorAction)
        {
            return UsageError.Report(result, Console.Error);
        }

        if (result.Action is HelpAction)
        {
            return HelpText.Print(result, Console.Out);
        }

        return result.Invoke();
    }

    /// <summary>
    /// The root is named <c>eventio</c> in every help text and error, whatever the file run is called
    /// (a <see cref="RootCommand"/> takes the executable's name: <c>EventIO.Cli</c> under <c>dotnet</c>).
    /// </summary>
    internal static Command CreateRoot() => new("eventio", "Event-driven I/O for .NET: runs the recipe's servers (UDP time, UDP echo, TCP echo, UDP Fibonacci) and talks to them.")
    {
        new HelpOption(),
        new VersionOption(),
        OperatingSystem.IsLinux() ? ServeCommand.Create() : LinuxOnly.Command("serve", ServeDescription),
        ClientCommands.CreateTime(),
        ClientCommands.CreateEcho(),
        ClientCommands.CreateFib(),
        OperatingSystem.IsLinux() ? BenchCommand.Create() : LinuxOnly.Command("bench", BenchDescription),
    };
}
