using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using System.Runtime.Versioning;
using EventIO.Cli.Load;

namespace EventIO.Cli;

/// <summary><c>eventio bench tcp|udp</c>: a closed-loop load generator for echo servers, in the shape of echoload.</summary>
[SupportedOSPlatform("linux")]
internal static class BenchCommand
{
    private const int MaxUdpPayload = 65507;
    private const long MaxBufferedBytes = 64L * 1024 * 1024; // size x pipeline, per connection
    private const double DefaultUdpTimeoutSeconds = 0.2;
    private const double DefaultTcpTimeoutSeconds = 5;

    internal static Command Create()
    {
        var protocol = new Argument<BenchProtocol>("protocol")
        {
            HelpName = "tcp|udp",
            Description = "tcp (connections to a TCP echo server) or udp (connected sockets to a UDP echo server).",
            CustomParser = ParseProtocol,
        };
        Option<IPAddress> host = CommonOptions.Host("Server address.");
        Option<int> port = RequiredPort();
        Option<int> connections = CommonOptions.Int("--connections", 100, 1, 1_000_000, "TCP connections, or UDP sockets, each a closed loop.");
        Option<int> size = CommonOptions.Int("--size", 64, 16, 16 * 1024 * 1024, "Message size in bytes (at least 16; UDP at most 65507).");
        Option<int> pipeline = CommonOptions.Int("--pipeline", 1, 1, 65536, "Messages in flight per connection (1 = ping-pong).");
        Option<double> duration = CommonOptions.PositiveSeconds("--duration", 5, "Seconds measured.");
        Option<double> warmup = Seconds("--warmup", 1, "Seconds of load before measuring (not counted).");
        Option<double?> timeout = CommonOptions.OptionalSeconds(
            "--timeout",
            3600,
            $"Seconds. UDP: no echo after this long and a datagram counts as lost and is sent again (default {DefaultUdpTimeoutSeconds}). TCP: connect timeout per connection (default {DefaultTcpTimeoutSeconds}).");
        Option<string> format = OutputFormat();

        var command = new Command("bench", "Load an echo server: each connection keeps --pipeline messages in flight, verifies every echoed byte, and records round-trip times.")
        {
            protocol, host, port, connections, size, pipeline, duration, warmup, timeout, format,
        };
        command.Validators.Add(r =>
        {
            BenchProtocol mode;
            int messageSize;
            int depth;
            try
            {
                mode = r.GetValue(protocol);
                messageSize = r.GetValue(size);
                depth = r.GetValue(pipeline);
            }
            catch (InvalidOperationException)
            {
                return; // one of them did not parse: that error is reported, this check has nothing to check
            }

            if (mode == BenchProtocol.Udp && messageSize > MaxUdpPayload)
            {
                r.AddError($"--size must be at most {MaxUdpPayload} for udp (the largest UDP datagram), got {messageSize}.");
            }
            else if ((long)messageSize * depth > MaxBufferedBytes)
            {
                r.AddError($"--size x --pipeline must be at most 64 MiB per connection (got {messageSize} x {depth}).");
            }
        });
        command.SetAction(r =>
        {
            BenchProtocol mode = r.GetValue(protocol);
            int messageSize = r.GetValue(size);
            int depth = r.GetValue(pipeline);
            var settings = new BenchSettings(
                mode,
                new IPEndPoint(r.GetValue(host)!, r.GetValue(port)),
                r.GetValue(connections),
                messageSize,
                depth,
                TimeSpan.FromSeconds(r.GetValue(duration)),
                TimeSpan.FromSeconds(r.GetValue(warmup)),
                TimeSpan.FromSeconds(r.GetValue(timeout) ?? (mode == BenchProtocol.Udp ? DefaultUdpTimeoutSeconds : DefaultTcpTimeoutSeconds)));
            try
            {
                BenchResult result = LoadGenerator.Run(settings);
                result.ReportProblems(Console.Error);
                if (r.GetValue(format) == "json")
                {
                    result.WriteJson(Console.Out);
                }
                else
                {
                    result.Print(Console.Out);
                }

                return result.ExitCode;
            }
            catch (ClientException ex)
            {
                Console.Error.WriteLine($"eventio: {ex.Message}");
                return ExitCodes.Failure;
            }
        });
        return command;
    }

    // json: one object with every figure, for scripts (`eventio bench ... --format json | jq .rps`).
    private static Option<string> OutputFormat()
    {
        var option = new Option<string>("--format")
        {
            Description = "text: readable lines and one key=value line (as echoload); json: one object with every figure, for scripts.",
            DefaultValueFactory = _ => "text",
        };
        option.AcceptOnlyFromAmong("text", "json");
        return option;
    }

    private static BenchProtocol ParseProtocol(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        switch (text.ToUpperInvariant())
        {
            case "TCP":
                return BenchProtocol.Tcp;
            case "UDP":
                return BenchProtocol.Udp;
            default:
                result.AddError($"the protocol must be tcp or udp (got '{text}').");
                return BenchProtocol.Tcp;
        }
    }

    private static Option<int> RequiredPort() => new("--port")
    {
        Description = "Echo server port (required).",
        Required = true,
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value is < 1 or > 65535)
            {
                result.AddError($"--port must be a whole number from 1 to 65535 (got '{text}').");
            }

            return value;
        },
    };

    // Zero allowed, unlike CommonOptions.PositiveSeconds: a run without warm-up is legitimate.
    private static Option<double> Seconds(string name, double defaultSeconds, string description) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultSeconds,
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) || !(seconds >= 0) || seconds > 3600)
            {
                result.AddError($"{name} must be a number of seconds from 0 to 3600 (got '{text}').");
            }

            return seconds;
        },
    };
}
