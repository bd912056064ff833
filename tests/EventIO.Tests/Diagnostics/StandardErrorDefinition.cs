namespace EventIO.Tests.Diagnostics;

/// <summary>Tests that redirect the process's stderr run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class StandardErrorDefinition
{
    public const string Name = "stderr";
}
