using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace EventIO.Hosting;

/// <summary>Addresses as configuration gives them: text.</summary>
internal static class HostAddress
{
    /// <summary>
    /// An IPv4 or IPv6 address (<c>127.0.0.1</c>, <c>::1</c>, <c>0.0.0.0</c>, <c>::</c>), <c>localhost</c> (127.0.0.1)
    /// or <c>*</c> (every IPv4 address). Refuses the forms <see cref="IPAddress.TryParse(string?, out IPAddress?)"/>
    /// would take but nobody means, such as <c>7000</c> (0.0.27.88).
    /// </summary>
    internal static bool TryParse(string? text, [NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        if (string.Equals(text, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
            return true;
        }

        if (text == "*")
        {
            address = IPAddress.Any;
            return true;
        }

        bool dotted = text.Count(c => c == '.') == 3;
        return (dotted || text.Contains(':', StringComparison.Ordinal)) && IPAddress.TryParse(text, out address);
    }
}
