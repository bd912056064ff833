namespace EventIO.Polling;

/// <summary>
/// A building block that submits io_uring requests of its own (receives, sends, accepts) and gets their
/// completions, in the dispatch phase, on the loop thread.
/// </summary>
internal interface ICompletionHandler
{
    /// <summary>One completion of a request this handler submitted, tagged <paramref name="operation"/> (<see cref="RingOperation"/>).</summary>
    void OnCompletion(byte operation, int result, uint flags);
}
