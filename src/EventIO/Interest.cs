namespace EventIO;

/// <summary>The readiness a handler asks the poller to report: the recipe's wants_to_receive/wants_to_send.</summary>
[Flags]
public enum Interest : byte
{
    /// <summary>Nothing: the descriptor is taken out of the kernel's interest set.</summary>
    None = 0,

    /// <summary>Report when a receive (or accept) would not block.</summary>
    Readable = 1,

    /// <summary>Report when a send would not block.</summary>
    Writable = 2,
}
