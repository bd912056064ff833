namespace EventIO.Waking;

/// <summary>Wakes a loop blocked in its poller: the recipe's socket pair, behind one small contract.</summary>
/// <remarks><b>Threading:</b> <see cref="Wake"/> from any thread; <see cref="Drain"/> on the loop thread.</remarks>
internal interface IWaker : IDisposable
{
    /// <summary>The descriptor the poller watches for readability.</summary>
    int Descriptor { get; }

    /// <summary>Makes <see cref="Descriptor"/> readable. Never blocks; safe after disposal (does nothing).</summary>
    void Wake();

    /// <summary>Makes <see cref="Descriptor"/> not readable again.</summary>
    void Drain();
}
