using System.CommandLine;
using Microsoft.Extensions.Logging;

namespace EventIO.Cli;

/// <summary>
/// <c>eventio serve --log-format simple|json|systemd</c>: the console formatters of
/// Microsoft.Extensions.Logging.Console, every one on stderr (stdout carries only the listening lines).
/// </summary>
internal static class LogFormat
{
    /// <summary>One line per message, local time first: for a terminal.</summary>
    internal const string Simple = "simple";

    /// <summary>One JSON object per line (UTC timestamp, level, category, event id, message, state): for a log shipper.</summary>
    internal const string Json = "json";

    /// <summary>One line per message with a syslog priority prefix (<c>&lt;6&gt;</c>) and no timestamp: for journald.</summary>
    internal const string Systemd = "systemd";

    internal static Option<string> CreateOption()
    {
        var option = new Option<string>("--log-format")
        {
            Description = "How log lines look on stderr: simple (for a terminal), json (one object per line), systemd (journald priorities, no timestamps).",
            DefaultValueFactory = _ => Simple,
        };
        option.AcceptOnlyFromAmong(Simple, Json, Systemd);
        return option;
    }

    internal static ILoggingBuilder Configure(ILoggingBuilder builder, string format)
    {
        switch (format)
        {
            case Json:
                builder.AddJsonConsole(o =>
                {
                    o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                    o.UseUtcTimestamp = true;
                });
                break;
            case Systemd:
                builder.AddSystemdConsole();
                break;
            default:
                builder.AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.TimestampFormat = "HH:mm:ss.fff ";
                });
                break;
        }

        return builder.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    }
}
