namespace EventIO.Tests.Tracing;

/// <summary>
/// Tests that enable the <c>EventIO</c> event source run alone: while a listener is on, every loop in the
/// process traces its turns (and allocates to do so), which the allocation tests would count as theirs.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EventSourceListenerDefinition
{
    public const string Name = "EventIO event source listeners";
}
