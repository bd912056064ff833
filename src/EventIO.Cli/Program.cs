using System.CommandLine;

namespace EventIO.Cli;

/// <summary>The <c>eventio</c> command: verb dispatch only.</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("EventIO: event-driven I/O for .NET. Runs the recipe's servers and talks to them.")
        {
            ServeCommand.Create(),
            ClientCommands.CreateTime(),
            ClientCommands.CreateEcho(),
            ClientCommands.CreateFib(),
            BenchCommand.Create(),
        };
        return root.Parse(args).Invoke();
    }
}
