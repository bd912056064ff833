namespace EventIO.Tests.Hostile;

/// <summary>
/// Hostile tests that move a lot of traffic or churn through thousands of sockets run alone, so that their
/// time bounds do not depend on what else the test run does at the same moment.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HostileHeavyDefinition
{
    public const string Name = "Hostile: heavy";
}
