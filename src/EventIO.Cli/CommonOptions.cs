using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;

namespace EventIO.Cli;

/// <summary>Options and parsing shared by several verbs.</summary>
internal static class CommonOptions
{
    /// <summary><c>--host</c>: an IPv4/IPv6 address or <c>localhost</c>; default 127.0.0.1.</summary>
    internal static Option<IPAddress> Host(string description) => new("--host")
    {
        Description = description,
        DefaultValueFactory = _ => IPAddress.Loopback,
        CustomParser = ParseAddress,
    };

    /// <summary>A port option, 0..65535, with a default.</summary>
    internal static Option<int> Port(string name, int defaultPort, string description)
    {
        return Int(name, defaultPort, 0, 65535, description);
    }

    /// <summary>A port option, 0..65535, with no default (absent: null).</summary>
    internal static Option<int?> OptionalPort(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value is < 0 or > 65535)
            {
                result.AddError($"{name} must be a whole number from 0 to 65535 (got '{text}').");
            }

            return value;
        },
    };

    /// <summary>An integer option with a default and an inclusive range; bad input gets a one-line error.</summary>
    internal static Option<int> Int(string name, int defaultValue, int min, int max, string description) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
            {
                result.AddError($"{name} must be a whole number from {min} to {max} (got '{text}').");
            }

            return value;
        },
    };

    /// <summary><c>--timeout SECONDS</c> for the clients. Every verb's <c>--timeout</c> is in seconds (fractions allowed).</summary>
    internal static Option<double> Timeout(double defaultSeconds) => PositiveSeconds("--timeout", defaultSeconds, "Seconds to wait for each reply before giving up with an error.");

    /// <summary>A positive number of seconds, at most an hour.</summary>
    internal static Option<double> PositiveSeconds(string name, double defaultSeconds, string description) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultSeconds,
        CustomParser = result => ParseSeconds(result, name, 3600),
    };

    /// <summary>An optional positive number of seconds (absent: null), at most <paramref name="maxSeconds"/>.</summary>
    internal static Option<double?> OptionalSeconds(string name, double maxSeconds, string description) => new(name)
    {
        Description = description,
        CustomParser = result => ParseSeconds(result, name, maxSeconds),
    };

    private static double ParseSeconds(ArgumentResult result, string name, double maxSeconds)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) || !(seconds > 0) || seconds > maxSeconds)
        {
            result.AddError($"{name} must be a number of seconds above 0 and at most {maxSeconds} (got '{text}').");
        }

        return seconds;
    }

    private static IPAddress ParseAddress(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "127.0.0.1";
        if (string.Equals(text, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        if (IPAddress.TryParse(text, out IPAddress? address))
        {
            return address;
        }

        result.AddError($"--host must be an IP address or localhost (got '{text}').");
        return IPAddress.None;
    }
}
