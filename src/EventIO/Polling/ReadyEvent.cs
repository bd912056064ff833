namespace EventIO.Polling;

/// <summary>One readiness report from a poller: the registration's token and what is ready.</summary>
/// <param name="Token">The token given to <see cref="IPoller.Add"/> or <see cref="IPoller.Modify"/>.</param>
/// <param name="Ready">The readiness reported (not yet masked by the current interest).</param>
/// <param name="Failed">
/// The kernel reported an error, a hang-up or an invalid descriptor; the loop then dispatches every
/// direction the handler is interested in so that its next receive or send sees the failure.
/// </param>
internal readonly record struct ReadyEvent(ulong Token, Interest Ready, bool Failed);
