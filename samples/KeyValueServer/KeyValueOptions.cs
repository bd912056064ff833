namespace EventIO.Samples.KeyValue;

/// <summary>The store's limits, from the section <c>KeyValue</c> of <c>appsettings.json</c> (or <c>KeyValue__MaxKeys=…</c>).</summary>
public sealed class KeyValueOptions
{
    /// <summary>The most keys the store holds; a SET of a new key beyond it is refused.</summary>
    public int MaxKeys { get; set; } = 100_000;

    /// <summary>The longest command line, in bytes; a longer one closes the connection.</summary>
    public int MaxLineLength { get; set; } = 4096;
}
