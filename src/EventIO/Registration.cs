namespace EventIO;

/// <summary>
/// The registry's record of one registered handler: its descriptor and the interest the kernel holds.
/// One instance per slot, reused; <see cref="Generation"/> changes on every removal so that events
/// and tokens meant for a removed handler never reach the slot's next occupant.
/// </summary>
internal sealed class Registration
{
    internal Registration(int slot) => Slot = slot;

    /// <summary>Index in the slot table: the low half of the token.</summary>
    internal int Slot { get; }

    /// <summary>Bumped when the slot is freed: the high half of the token.</summary>
    internal uint Generation { get; private set; }

    /// <summary>The handler, or null while the slot is free.</summary>
    internal IEventHandler? Handler { get; private set; }

    /// <summary>The descriptor read once at registration (the handle may be closed by the time of removal).</summary>
    internal int Descriptor { get; private set; } = -1;

    /// <summary>The interest the poller holds now; <see cref="Interest.None"/> means not in the kernel.</summary>
    internal Interest Registered { get; set; }

    /// <summary>True while the registration is queued for the next interest sync.</summary>
    internal bool Dirty { get; set; }

    /// <summary>The loop's own handler (the waker): not counted, not closed with the user's handlers.</summary>
    internal bool IsInternal { get; private set; }

    /// <summary>The token the poller reports for this registration.</summary>
    internal ulong Token => ((ulong)Generation << 32) | (uint)Slot;

    /// <summary>True while this registration still belongs to the handler it had at <paramref name="generation"/>.</summary>
    internal bool IsLive(uint generation) => Generation == generation && Handler is not null;

    internal void Occupy(IEventHandler handler, int descriptor, Interest registered, bool isInternal)
    {
        Handler = handler;
        Descriptor = descriptor;
        Registered = registered;
        IsInternal = isInternal;
    }

    internal void Vacate()
    {
        Handler = null;
        Descriptor = -1;
        Registered = Interest.None;
        IsInternal = false;
        Generation++;
    }
}
