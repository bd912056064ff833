namespace EventIO.Hosting;

/// <summary>A server added to the host: its name (also the name of its options and its <c>eventio.server</c> tag).</summary>
internal abstract record ServerRegistration(string Name)
{
    /// <summary><c>tcp</c> or <c>udp</c>.</summary>
    internal abstract string Protocol { get; }
}
