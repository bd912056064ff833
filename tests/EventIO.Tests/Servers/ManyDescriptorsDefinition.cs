namespace EventIO.Tests.Servers;

/// <summary>
/// Tests that hold hundreds of descriptors at once run alone: other tests running beside them could be given
/// descriptor numbers of 1024 and above, which the select backend cannot watch.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ManyDescriptorsDefinition
{
    public const string Name = "Servers: many descriptors";
}
