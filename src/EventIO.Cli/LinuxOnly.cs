using System.CommandLine;
using System.Runtime.InteropServices;

namespace EventIO.Cli;

/// <summary>
/// What <c>serve</c> and <c>bench</c> are on an OS other than Linux: a verb that says so in one line and exits 1,
/// instead of a stack trace from the first epoll call. <c>time</c>, <c>echo</c> and <c>fib</c> use plain sockets
/// and work everywhere.
/// </summary>
internal static class LinuxOnly
{
    /// <summary>A stand-in for <paramref name="name"/> that accepts any arguments and explains.</summary>
    internal static Command Command(string name, string description)
    {
        var rest = new Argument<string[]>("args") { Arity = ArgumentArity.ZeroOrMore, Hidden = true };
        var command = new Command(name, description + " (Linux only.)") { rest };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(_ =>
        {
            Console.Error.WriteLine($"eventio {name}: runs on Linux only (it is built on epoll and eventfd), not on {RuntimeInformation.OSDescription}; eventio time, echo and fib work here.");
            return ExitCodes.Failure;
        });
        return command;
    }
}
