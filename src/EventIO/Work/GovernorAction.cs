namespace EventIO.Work;

/// <summary>What the worker governor does after a sample.</summary>
internal enum GovernorAction
{
    /// <summary>Leave every worker where it is.</summary>
    None,

    /// <summary>Starving workers get SCHED_OTHER.</summary>
    Promote,

    /// <summary>A loop waited for a CPU: promoted workers go back to SCHED_IDLE.</summary>
    Demote,
}
