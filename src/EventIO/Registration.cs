namespace EventIO;

/// <summary>
/// The loop's record of one registered handler: its descriptor and the interest the kernel holds.
/// One instance per slot, reused; <see cref="Generation"/> changes on every removal so that events
/// and tokens meant for a removed handler never reach the slot's next occupant.
/// </summary>
internal sealed class Registration
{
    internal Registration(int slot) => Slot = slot;

    /// <summary>Index in the loop's slot table: the low half of the token.</summary>
    internal int Slot { get; }

    /// <summary>Bumped when the slot is freed: the high half of the token.</summary>
    internal uint Generation { get; set; }

    /// <summary>The handler, or null while the slot is free.</summary>
    internal IEventHandler? Handler { get; set; }

    /// <summary>The descriptor read once at <see cref="EventLoop.Add"/> (the handle may be closed by the time of removal).</summary>
    internal int Descriptor { get; set; } = -1;

    /// <summary>The interest the poller holds now; <see cref="Interest.None"/> means not in the kernel.</summary>
    internal Interest Registered { get; set; }

    /// <summary>True while the registration is queued for the next interest sync.</summary>
    internal bool Dirty { get; set; }

    /// <summary>The token the poller reports for this registration.</summary>
    internal ulong Token => ((ulong)Generation << 32) | (uint)Slot;
}
